import { z } from "zod";

/** The `data` section of a `mm train` config. */
export const dataSchema = z
  .strictObject({
    /**
     * The training set: a JSON array or a JSON Lines file (`.jsonl`) of records in the LLaVA format
     * (`conversations`) or the messages format (`messages`). Media paths are relative to this file.
     */
    train: z.string().min(1),
    /** A held-out dataset in the same formats, evaluated every `training.evalEvery` steps. */
    eval: z.string().min(1).optional(),
    /** Holds out this fraction of the training records (chosen by `seed`) for evaluation instead of `eval`. */
    evalFraction: z.number().gt(0).lt(1).optional(),
    /** Truncates every record to this many tokens after the modality tokens are expanded. */
    maxLength: z.int().positive().optional(),
    /**
     * Skips records that cannot be used (missing or corrupt media, placeholder tokens that do not
     * match the inputs, no supervised token left after truncation) and lists them at the end.
     * Default false: such a record stops the run with an error naming it.
     */
    skipBadRecords: z.boolean().default(false),
  })
  .refine((data) => data.eval === undefined || data.evalFraction === undefined, {
    path: ["evalFraction"],
    message: 'give either "data.eval" (a dataset file) or "data.evalFraction", not both',
  });

export type DataOptions = z.infer<typeof dataSchema>;
