import type * as tf from "@tensorflow/tfjs";
import type { TrainingOptions } from "../config/training-schema";
import { AdamW } from "./adamw";
import type { Optimizer } from "./optimizer";
import { SGD } from "./sgd";

/** Builds the optimizer that `training.optimizer` names, with the config's settings. */
export function createOptimizer(parameters: Map<string, tf.Variable>, training: TrainingOptions): Optimizer {
  if (training.optimizer === "sgd") {
    return new SGD(parameters, { momentum: training.momentum, weightDecay: training.weightDecay });
  }
  return new AdamW(parameters, { beta1: training.adamBeta1, beta2: training.adamBeta2, eps: training.adamEpsilon, weightDecay: training.weightDecay });
}
