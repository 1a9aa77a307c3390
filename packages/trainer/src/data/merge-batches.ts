import * as tf from "@tensorflow/tfjs";
import { IGNORE_INDEX, type MultimodalBatch } from "@mm/core";

/** Padding settings for merged batches (see `Tokenizer.padTokenId` and `paddingSide`). */
export interface PaddingOptions {
  padTokenId: number;
  paddingSide: "left" | "right";
}

/**
 * Stacks batches into one: text rows padded to the longest row (input_ids with `padTokenId`,
 * attention_mask with 0, labels with -100) and each modality's encoder inputs concatenated along
 * axis 0. A batch without inputs of a modality counts 0 inputs per sample for it. The result is
 * the batch that processing all samples at once gives; the caller keeps ownership of `batches`.
 */
export function mergeBatches(batches: MultimodalBatch[], padding: PaddingOptions): MultimodalBatch {
  return tf.tidy(() => {
    const length = Math.max(...batches.map((batch) => batch.input_ids.shape[1]!));
    const stack = (pick: (batch: MultimodalBatch) => tf.Tensor, value: number) =>
      tf.concat(batches.map((batch) => padColumns(pick(batch), length, value, padding.paddingSide)), 0); // [B, T]
    const merged: MultimodalBatch = {
      input_ids: stack((batch) => batch.input_ids, padding.padTokenId),
      attention_mask: stack((batch) => batch.attention_mask ?? tf.onesLike(batch.input_ids), 0),
      labels: stack((batch) => batch.labels ?? tf.fill(batch.input_ids.shape, IGNORE_INDEX, "int32"), IGNORE_INDEX),
      encoderInputs: mergeEncoderInputs(batches),
    };
    return merged as unknown as tf.TensorContainerObject;
  }) as unknown as MultimodalBatch;
}

function padColumns(rows: tf.Tensor, length: number, value: number, side: "left" | "right"): tf.Tensor {
  const missing = length - rows.shape[1]!;
  if (missing === 0) return rows;
  const columns: [number, number] = side === "left" ? [missing, 0] : [0, missing];
  return tf.pad(rows, [[0, 0], columns], value);
}

function mergeEncoderInputs(batches: MultimodalBatch[]): NonNullable<MultimodalBatch["encoderInputs"]> {
  const modalities = [...new Set(batches.flatMap((batch) => Object.keys(batch.encoderInputs ?? {})))];
  const merged: NonNullable<MultimodalBatch["encoderInputs"]> = {};
  for (const modality of modalities) {
    const entries = batches.map((batch) => batch.encoderInputs?.[modality]);
    const keys = [...new Set(entries.flatMap((entry) => Object.keys(entry?.inputs ?? {})))];
    const inputs = Object.fromEntries(
      keys.map((key) => [key, tf.concat(entries.flatMap((entry) => (entry?.inputs[key] === undefined ? [] : [entry.inputs[key]])), 0)]), // [K, ...]
    );
    const inputsPerSample = batches.flatMap((batch, b) => entries[b]?.inputsPerSample ?? new Array<number>(batch.input_ids.shape[0]).fill(0));
    merged[modality] = { inputs, inputsPerSample };
  }
  return merged;
}
