import * as tf from "@tensorflow/tfjs";
import { countTrainedTokens, type MultimodalBatch, type MultimodalModel } from "@mm/core";
import { clipGradNorm } from "../optim/clip-grad-norm";
import { accumulateGradients } from "./accumulate";
import { disposeBatch } from "./dispose-batch";
import type { LoadedBatch } from "./loaded-batch";

/** The summed gradients of one optimizer step, before the update. */
export interface StepGradients {
  /** Gradients by parameter path, clipped to `maxGradNorm`; the caller disposes them. */
  grads: Record<string, tf.Tensor>;
  /** The loss of the step: the mean over all trained tokens of its micro-batches. */
  loss: number;
  /** The global gradient norm before clipping. */
  gradNorm: number;
  /** Non-padding tokens in the step's batches. */
  tokens: number;
}

/**
 * Computes the gradients of one optimizer step: each micro-batch's loss is normalised by the
 * trained tokens of the whole step, so the sum equals the loss of one batch holding every record.
 * Disposes the batches. Micro-batches without a batch (every record skipped) contribute nothing.
 */
export function computeStepGradients(model: MultimodalModel, loaded: LoadedBatch[], maxGradNorm: number | undefined): StepGradients {
  const batches = loaded.flatMap(({ batch }) => (batch === undefined ? [] : [batch]));
  const normalizer = batches.reduce((sum, batch) => sum + trainedTokens(batch), 0);
  const sum: Record<string, tf.Tensor> = {};
  let loss = 0;
  let tokens = 0;
  try {
    for (const batch of batches) {
      const result = model.computeGradients(batch, { lossNormalizer: Math.max(normalizer, 1) });
      loss += result.loss.dataSync()[0];
      result.loss.dispose();
      accumulateGradients(sum, result.grads);
      tokens += countTokens(batch);
    }
  } catch (error) {
    tf.dispose(Object.values(sum));
    throw error;
  } finally {
    for (const batch of batches) disposeBatch(batch);
  }
  const { grads, norm } = clipGradNorm(sum, maxGradNorm);
  return { grads, loss, gradNorm: norm, tokens };
}

/** Targets that are not -100 after the next-token shift. */
export function trainedTokens(batch: MultimodalBatch): number {
  if (batch.labels === undefined) return 0;
  const [rows, length] = batch.labels.shape;
  return countTrainedTokens(batch.labels.dataSync() as Int32Array, rows, length);
}

function countTokens(batch: MultimodalBatch): number {
  if (batch.attention_mask === undefined) return batch.input_ids.size;
  const sum = tf.sum(batch.attention_mask);
  const count = sum.dataSync()[0];
  sum.dispose();
  return count;
}
