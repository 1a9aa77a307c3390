import { join } from "node:path";
import { ConfigError, type MultimodalModel } from "@mm/core";
import type { Optimizer } from "../optim/optimizer";
import { loadModules } from "./load-modules";
import { readOptimizerState } from "./optimizer-state";
import { readTrainerState, type TrainerState } from "./trainer-state";

/**
 * Loads a checkpoint folder written by `CheckpointManager.save` into `model` (every module, in
 * place) and `optimizer`, and returns its trainer state for `Trainer.restore`.
 *
 * @throws ConfigError when the checkpoint was written with another optimizer.
 * @throws InputError or ShapeError when a file is missing, damaged or belongs to another model.
 */
export function loadCheckpoint(directory: string, model: MultimodalModel, optimizer: Optimizer): TrainerState {
  const state = readTrainerState(join(directory, "trainer_state.json"));
  if (state.optimizer.name !== optimizer.name) {
    throw new ConfigError(
      `checkpoint ${directory} was written with optimizer "${state.optimizer.name}" but training.optimizer is "${optimizer.name}"; ` +
        `set it back to "${state.optimizer.name}" to resume, or start a new run without --resume`,
      "training.optimizer",
    );
  }
  loadModules(model, directory);
  readOptimizerState(join(directory, "optimizer.safetensors"), optimizer, state.optimizer.stepCount);
  return state;
}
