import { z } from "zod";
import { dataSchema } from "./data-schema";
import { trainingSchema } from "./training-schema";

const modelSource = z
  .strictObject({
    /** A Hugging Face model folder (config.json + model.safetensors) or a Hub id, `org/name[@revision]`. */
    path: z.string().min(1).optional(),
    /** An inline `config.json` object: the model starts from random weights. */
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((source) => (source.path === undefined) !== (source.config === undefined), {
    message: 'give exactly one of "path" (a model folder) or "config" (an inline config.json for random weights)',
  });

const encoderSchema = z.strictObject({
  model: modelSource,
  projector: z
    .strictObject({
      type: z.enum(["linear", "mlp"]).default("mlp"),
      activation: z.string().default("gelu"),
      /** A folder with a trained projector (config.json + model.safetensors). */
      path: z.string().optional(),
    })
    .default({ type: "mlp", activation: "gelu" }),
  /** The processor's preprocessor_config.json: a file, a folder or Hub id containing it, or an inline object. */
  processor: z.strictObject({ path: z.string().optional(), config: z.record(z.string(), z.unknown()).optional() }),
  /** The modality token in the text; default `<modality>`, e.g. `<vision>`. */
  token: z.string().min(1).optional(),
});

const trainableSchema = z.union([
  z.enum(["projector", "projector+llm", "all"]),
  z.strictObject({
    llm: z.boolean().default(true),
    encoders: z.record(z.string(), z.tuple([z.boolean(), z.boolean()])).optional(),
  }),
]);

/** The `mm train` configuration; paths are relative to the config file. */
export const trainConfigSchema = z
  .strictObject({
    /** Seeds weight initialisation, the data order and the `data.evalFraction` split (default 0). */
    seed: z.int().min(0).default(0),
    /** The tfjs backend: "auto" (default), "tensorflow", "wasm" or "cpu". */
    backend: z.enum(["auto", "tensorflow", "wasm", "cpu"]).default("auto"),
    model: z.strictObject({
      languageModel: modelSource,
      encoders: z.record(z.string(), encoderSchema),
    }),
    /** Folder with tokenizer.json (and tokenizer_config.json), or a Hub id, `org/name[@revision]`. */
    tokenizer: z.string().min(1),
    data: dataSchema,
    training: trainingSchema,
    /** What trains: a preset or per-part flags ([encoder, projector] per modality). Default: everything. */
    trainable: trainableSchema.default("all"),
    /** Folder for the trained modules, `metrics.jsonl`, `loss.svg` and `checkpoints/step-N`. */
    output: z.string().min(1),
  })
  .superRefine((config, context) => {
    const hasEvalData = config.data?.eval !== undefined || config.data?.evalFraction !== undefined;
    if (config.training?.evalEvery !== undefined && !hasEvalData) {
      context.addIssue({ code: "custom", path: ["training", "evalEvery"], message: 'needs held-out records; set "data.eval" or "data.evalFraction"' });
    }
  });

export type TrainConfig = z.infer<typeof trainConfigSchema>;
export type { TrainingOptions } from "./training-schema";
export type { DataOptions } from "./data-schema";
export type EncoderSpec = TrainConfig["model"]["encoders"][string];
export type ModelSource = z.infer<typeof modelSource>;
export type TrainableSpec = TrainConfig["trainable"];
