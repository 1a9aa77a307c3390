import { ConfigError, getLogger } from "@mm/core";
import type { TrainerState } from "../checkpoint/trainer-state";
import type { TrainingOptions } from "../config/training-schema";

const log = getLogger("trainer");

/**
 * Checks that a checkpoint's state fits the current run. A different number of training records
 * is an error, because the saved data order would draw other records. A different schedule or
 * step count only warns: the run continues, but not on the curve it started.
 */
export function checkResumable(state: TrainerState, training: TrainingOptions, recordCount: number): void {
  if (state.data.recordCount !== recordCount) {
    throw new ConfigError(
      `the checkpoint was written for ${state.data.recordCount} training records but the training set now has ${recordCount}; ` +
        `resume with the same data.train and data.evalFraction, or start a new run without --resume`,
      "data.train",
    );
  }
  if (state.step > training.steps) {
    throw new ConfigError(`the checkpoint is at step ${state.step}, past training.steps ${training.steps}; raise training.steps to continue`, "training.steps");
  }
  const saved = state.schedule;
  const current = { name: training.schedule, learningRate: training.learningRate, warmupSteps: training.warmupSteps, totalSteps: training.steps };
  if (JSON.stringify(saved) !== JSON.stringify(current)) {
    log.warn(`the checkpoint's schedule ${JSON.stringify(saved)} differs from the config's ${JSON.stringify(current)}; continuing with the config's`);
  }
}
