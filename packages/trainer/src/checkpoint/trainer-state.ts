import { readFileSync, writeFileSync } from "node:fs";
import { InputError } from "@mm/core";
import { z } from "zod";

/** JSON has no NaN or Infinity: they are written as null and read back as NaN. */
const number = z.number().nullable().transform((value) => value ?? Number.NaN);

const randomState = z.object({ state: z.int().min(0), spareNormal: z.number().nullable() });

const stepMetrics = z.object({
  step: z.int().positive(),
  totalSteps: z.int().positive(),
  loss: number,
  learningRate: number,
  gradNorm: number,
  milliseconds: number,
  tokensPerSecond: number,
  skipped: z.string().optional(),
});

const evalMetrics = z.object({ step: z.int().positive(), loss: number, perplexity: number, tokens: z.int().min(0), records: z.int().min(0) });

/**
 * The contents of `trainer_state.json` in a checkpoint: everything besides the weights and the
 * optimizer tensors that a resumed run needs to continue exactly where this one stopped.
 */
export const trainerStateSchema = z.object({
  formatVersion: z.literal(1),
  /** The last completed optimizer step. */
  step: z.int().min(0),
  totalSteps: z.int().positive(),
  seed: z.int().min(0),
  optimizer: z.object({ name: z.enum(["adamw", "sgd"]), stepCount: z.int().min(0), hyperparameters: z.record(z.string(), z.number()) }),
  schedule: z.object({ name: z.enum(["constant", "linear", "cosine"]), learningRate: z.number(), warmupSteps: z.int().min(0), totalSteps: z.int().positive() }),
  /** The state of `globalRandom`, which weight initialisation draws from. */
  globalRandom: randomState,
  /** The data cursor's state right after the step's records were drawn. */
  data: z.object({
    recordCount: z.int().positive(),
    order: z.array(z.int().min(0)),
    position: z.int().min(0),
    epoch: z.int().min(0),
    random: randomState,
  }),
  history: z.array(stepMetrics),
  evalHistory: z.array(evalMetrics),
  /** Steps that made no update (non-finite loss with `training.skipNonFinite`, or no usable record). */
  skippedSteps: z.int().min(0),
  badRecords: z.array(z.object({ id: z.string(), file: z.string(), reason: z.string() })),
});

export type TrainerState = z.output<typeof trainerStateSchema>;

/** Writes `trainer_state.json`. */
export function writeTrainerState(path: string, state: TrainerState): void {
  writeFileSync(path, `${JSON.stringify(state, null, 1)}\n`);
}

/** Reads and validates `trainer_state.json`; an invalid file is an InputError naming the first problem. */
export function readTrainerState(path: string): TrainerState {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new InputError(`cannot read checkpoint state ${path}: ${(error as Error).message}`, path);
  }
  const result = trainerStateSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new InputError(`invalid checkpoint state ${path}: "${issue.path.join(".")}": ${issue.message}; the file is damaged or from another version`, path);
  }
  return result.data;
}
