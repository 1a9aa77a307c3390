import * as tf from "@tensorflow/tfjs";
import type { MultimodalBatch } from "@mm/core";

/** Disposes every tensor of a batch. */
export function disposeBatch(batch: MultimodalBatch): void {
  const tensors: tf.Tensor[] = [batch.input_ids];
  if (batch.attention_mask !== undefined) tensors.push(batch.attention_mask);
  if (batch.labels !== undefined) tensors.push(batch.labels);
  for (const entry of Object.values(batch.encoderInputs ?? {})) tensors.push(...Object.values(entry.inputs));
  tf.dispose(tensors);
}
