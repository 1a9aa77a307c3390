import * as tf from "@tensorflow/tfjs";
import { ModalityMismatchError, ShapeError } from "../errors/errors";
import { gatherRows } from "./gather-rows";

/** Projected features of one modality for a whole batch. */
export interface ModalityFeatures {
  /** Modality key, e.g. "vision"; it names the modality in errors. */
  modality: string;
  /** The placeholder token id of this modality in `input_ids`. */
  tokenId: number;
  /** [M, C] float32: the feature rows of all samples, in order of appearance. */
  features: tf.Tensor;
  /** Number of rows of `features` that belong to each sample (length B, summing to M). */
  rowsPerSample: number[];
}

/**
 * Replaces modality placeholder ids by 0 so the embedding lookup stays inside the table (the
 * modality ids are appended after the LLM's vocabulary). The embeddings at those positions are
 * overwritten by `injectFeatures`, so row 0 of the table receives no gradient from them.
 */
export function maskModalityIds(inputIds: Int32Array, modalityTokenIds: number[]): Int32Array {
  const masked = Int32Array.from(inputIds);
  for (let i = 0; i < masked.length; i++) if (modalityTokenIds.includes(masked[i])) masked[i] = 0;
  return masked;
}

/**
 * Writes each modality's feature rows into the text embeddings at its placeholder positions,
 * sample by sample and in order of appearance.
 *
 * textEmbeds: [B, T, C] float32; inputIds: the [B, T] int32 ids (row-major) before masking.
 * Returns [B, T, C]. Differentiable with respect to `textEmbeds` and every `features` tensor: it
 * gathers rows of [text rows; feature rows] with an index built here from the ids.
 * Throws ModalityMismatchError when a sample's placeholder count differs from its feature rows.
 */
export function injectFeatures(textEmbeds: tf.Tensor, inputIds: Int32Array, modalities: ModalityFeatures[]): tf.Tensor {
  const [batch, length, hidden] = textEmbeds.shape;
  if (inputIds.length !== batch * length) {
    throw new ShapeError(`input_ids have ${inputIds.length} values but the embeddings are [${textEmbeds.shape}]`);
  }
  if (modalities.length === 0) return textEmbeds;
  const index = buildSourceIndex(inputIds, batch, length, modalities);
  return tf.tidy(() => {
    const textRows = textEmbeds.reshape([batch * length, hidden]); // [B·T, C]
    const source = tf.concat([textRows, ...modalities.map((m) => m.features)], 0); // [B·T + ΣM, C]
    return gatherRows(source, index).reshape([batch, length, hidden]);
  });
}

/**
 * For each of the B·T positions, the row of [text rows; modality 1 rows; modality 2 rows; ...]
 * that fills it: its own text row, or the next unused feature row of its modality.
 */
function buildSourceIndex(inputIds: Int32Array, batch: number, length: number, modalities: ModalityFeatures[]): Int32Array {
  const index = new Int32Array(batch * length);
  for (let i = 0; i < index.length; i++) index[i] = i;
  let firstRow = batch * length;
  for (const modality of modalities) {
    checkFeatureShape(modality, batch);
    let nextRow = firstRow;
    for (let b = 0; b < batch; b++) {
      let placeholders = 0;
      for (let t = 0; t < length; t++) {
        const position = b * length + t;
        if (inputIds[position] !== modality.tokenId) continue;
        if (placeholders < modality.rowsPerSample[b]) index[position] = nextRow + placeholders;
        placeholders++;
      }
      if (placeholders !== modality.rowsPerSample[b]) {
        throw new ModalityMismatchError(modality.modality, b, placeholders, modality.rowsPerSample[b]);
      }
      nextRow += placeholders;
    }
    firstRow += modality.features.shape[0];
  }
  return index;
}

function checkFeatureShape(modality: ModalityFeatures, batch: number): void {
  const total = modality.rowsPerSample.reduce((a, b) => a + b, 0);
  if (modality.rowsPerSample.length !== batch || total !== modality.features.shape[0] || modality.features.rank !== 2) {
    throw new ShapeError(
      `${modality.modality}: features are [${modality.features.shape}] with rows per sample [${modality.rowsPerSample}], ` +
        `expected a rank-2 tensor whose ${batch} per-sample row counts add up to its first dimension`,
    );
  }
}
