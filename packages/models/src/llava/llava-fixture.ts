// The LLaVA reference fixture for the tests: a tiny LlavaForConditionalGeneration (CLIP vision
// tower, 2-layer Llama) and what transformers 4.40.2 computed from it (see refs.json's notes).
// Test-only: nothing in the package entry point imports this file.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import type { MultimodalBatch } from "@mm/core";
import { readFloat32, readJson } from "@mm/core/testing";

interface ArrayRef {
  file: string;
  shape: number[];
}

/** The parts of the fixture's refs.json that the tests read. */
export interface LlavaRefs {
  image_token_index: number;
  num_image_tokens_per_image: number;
  inputs: {
    pixel_values: ArrayRef;
    /** [2, 24]: each image token repeated 16 times, as transformers 4.45+ processors expand it. */
    input_ids_expanded: number[][];
    attention_mask_expanded: number[][];
    labels_expanded: number[][];
  };
  outputs: Record<string, ArrayRef> & { loss_new_style: number };
}

export const LLAVA_FIXTURE = fileURLToPath(new URL("../../test-fixtures/llava", import.meta.url));

export const llavaRefs: LlavaRefs = readJson<LlavaRefs>(join(LLAVA_FIXTURE, "refs.json"));

/** Reads a float32 output array by its refs.json key. */
export function llavaOutput(key: string): Float32Array {
  return readFloat32(join(LLAVA_FIXTURE, llavaRefs.outputs[key].file));
}

/** Reads an int64 output array by its refs.json key, as int32 (the values are token ids). */
export function llavaIntOutput(key: string): Int32Array {
  const bytes = readFileSync(join(LLAVA_FIXTURE, llavaRefs.outputs[key].file));
  const values = new BigInt64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return Int32Array.from(values, (value) => Number(value));
}

/** Reads the fixture's pixel_values, float32 [2, 3, 32, 32]; the caller disposes it. */
export function llavaPixelValues(): tf.Tensor {
  const entry = llavaRefs.inputs.pixel_values;
  return tf.tensor(readFloat32(join(LLAVA_FIXTURE, entry.file)), entry.shape, "float32");
}

/** Builds the fixture's expanded batch, one image per sample, with labels unless `withLabels` is false. */
export function llavaBatch(withLabels = true): MultimodalBatch {
  const { inputs } = llavaRefs;
  const batch: MultimodalBatch = {
    input_ids: tf.tensor2d(inputs.input_ids_expanded, undefined, "int32"),
    attention_mask: tf.tensor2d(inputs.attention_mask_expanded, undefined, "int32"),
    encoderInputs: { vision: { inputs: { pixel_values: llavaPixelValues() }, inputsPerSample: [1, 1] } },
  };
  if (withLabels) batch.labels = tf.tensor2d(inputs.labels_expanded, undefined, "int32");
  return batch;
}

export function disposeBatch(batch: MultimodalBatch): void {
  tf.dispose([batch.input_ids, ...(batch.attention_mask === undefined ? [] : [batch.attention_mask]), ...(batch.labels === undefined ? [] : [batch.labels])]);
  for (const entry of Object.values(batch.encoderInputs ?? {})) tf.dispose(Object.values(entry.inputs));
}
