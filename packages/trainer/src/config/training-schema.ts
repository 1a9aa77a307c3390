import { z } from "zod";

/** The `training` section of a `mm train` config: steps, batch, optimizer, schedule, checkpoints. */
export const trainingSchema = z
  .strictObject({
    /** Optimizer steps to run; each step trains on `batchSize · gradientAccumulation` records. */
    steps: z.int().positive(),
    /** Records per micro-batch. */
    batchSize: z.int().positive(),
    /** Micro-batches whose gradients are summed before each optimizer step (default 1). */
    gradientAccumulation: z.int().positive().default(1),
    /** Peak learning rate, reached after `warmupSteps`. */
    learningRate: z.number().positive(),
    /**
     * Weight decay of matrices and embeddings (rank ≥ 2; biases and norm weights never decay).
     * AdamW decays the weights directly (decoupled); SGD adds `weightDecay · p` to the gradient,
     * as torch.optim.SGD does. Default 0.
     */
    weightDecay: z.number().min(0).default(0),
    /** "adamw" (default) or "sgd". */
    optimizer: z.enum(["adamw", "sgd"]).default("adamw"),
    /** AdamW's β1, the decay rate of the first moment (default 0.9). Only with optimizer "adamw". */
    adamBeta1: z.number().min(0).lt(1).optional(),
    /** AdamW's β2, the decay rate of the second moment (default 0.999). Only with optimizer "adamw". */
    adamBeta2: z.number().min(0).lt(1).optional(),
    /** AdamW's ε, added to the denominator (default 1e-8). Only with optimizer "adamw". */
    adamEpsilon: z.number().positive().optional(),
    /** SGD momentum factor; 0 (default) is plain SGD. Only with optimizer "sgd". */
    momentum: z.number().min(0).lt(1).optional(),
    /** Steps of linear warmup from 0 to `learningRate` (default 0). */
    warmupSteps: z.int().min(0).default(0),
    /** Learning-rate decay after warmup: "constant", "linear" or "cosine" (default), to 0 at `steps`. */
    schedule: z.enum(["constant", "linear", "cosine"]).default("cosine"),
    /** Clips the global gradient norm to this value; default: no clipping. */
    maxGradNorm: z.number().positive().optional(),
    /** Writes a log line every this many steps when stdout is not a terminal (default 1). */
    logEvery: z.int().positive().default(1),
    /** Writes a checkpoint every this many steps; default: only the final one. */
    saveEvery: z.int().positive().optional(),
    /** How many of the newest checkpoints to keep; older ones are deleted (default 2). */
    keepCheckpoints: z.int().positive().default(2),
    /** Skips (and counts) steps whose loss or gradient norm is NaN or infinite instead of stopping. */
    skipNonFinite: z.boolean().default(false),
    /** Evaluates on the held-out records every this many steps and at the end; needs `data.eval` or `data.evalFraction`. */
    evalEvery: z.int().positive().optional(),
  })
  .superRefine((training, context) => {
    const adamKeys = (["adamBeta1", "adamBeta2", "adamEpsilon"] as const).filter((key) => training[key] !== undefined);
    if (training.optimizer !== "adamw") {
      for (const key of adamKeys) context.addIssue({ code: "custom", path: [key], message: `applies to optimizer "adamw" only; remove it or set "training.optimizer" to "adamw"` });
    }
    if (training.optimizer !== "sgd" && training.momentum !== undefined) {
      context.addIssue({ code: "custom", path: ["momentum"], message: `applies to optimizer "sgd" only; remove it or set "training.optimizer" to "sgd"` });
    }
  });

export type TrainingOptions = z.infer<typeof trainingSchema>;
/** The `training` section as written in a config, before defaults are filled in. */
export type TrainingInput = z.input<typeof trainingSchema>;
