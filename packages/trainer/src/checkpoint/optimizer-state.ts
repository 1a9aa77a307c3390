import * as tf from "@tensorflow/tfjs";
import { readTensors, toWriteEntries, writeSafetensors } from "@mm/core";
import type { Optimizer } from "../optim/optimizer";

/**
 * Writes the optimizer's state tensors (AdamW's `exp_avg.<path>` and `exp_avg_sq.<path>`, SGD's
 * `momentum_buffer.<path>`) as float32 safetensors, with the optimizer name and step count in
 * the metadata.
 */
export async function writeOptimizerState(path: string, optimizer: Optimizer): Promise<void> {
  const entries = await toWriteEntries(optimizer.stateTensors());
  writeSafetensors(path, entries, { format: "pt", optimizer: optimizer.name, step_count: String(optimizer.stepCount) });
}

/** Loads state that {@link writeOptimizerState} wrote into `optimizer`, with the step count `stepCount`. */
export function readOptimizerState(path: string, optimizer: Optimizer, stepCount: number): void {
  const tensors = readTensors(path);
  try {
    optimizer.loadState(tensors, stepCount);
  } finally {
    tf.dispose([...tensors.values()]);
  }
}
