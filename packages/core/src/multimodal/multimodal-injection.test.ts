import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { ModalityMismatchError, ShapeError } from "../errors/errors";
import { countLeakedTensors, TEST_BACKENDS, useBackend } from "../testing";
import { ModalEncoderModule } from "./modal-encoder-module";
import { MultimodalModel, type MultimodalBatch } from "./multimodal-model";
import { IdentityEncoder, IdentityProjector, RecordingLanguageModel } from "./test-support";

// The LLM embeds token id t as t, so text rows of the merged embeddings show their id. Image k
// (counted over the batch) contributes the two rows 101 + 2k and 102 + 2k. Audio clip k
// contributes the three rows 201 + 3k, 202 + 3k and 203 + 3k. So every injected row shows its source.
const VOCAB = 60;
const V = 60; // vision placeholder id, appended after the vocabulary as the processor does
const A = 61; // audio placeholder id
const P = 0; // padding id

interface Case {
  name: string;
  ids: number[][];
  attentionMask: number[][];
  /** Images per sample; absent when the batch has no vision inputs. */
  images?: number[];
  /** Audio clips per sample. */
  clips?: number[];
  /** Expected merged embedding at each position. */
  expected: number[][];
}

const CASES: Case[] = [
  {
    name: "right-padded row with placeholders at the start",
    ids: [[V, V, 5, 6, P, P], [5, V, V, 6, 7, 8]],
    attentionMask: [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]],
    images: [1, 1],
    expected: [[101, 102, 5, 6, 0, 0], [5, 103, 104, 6, 7, 8]],
  },
  {
    name: "left-padded row",
    ids: [[P, P, V, V, 5], [6, V, V, 7, 8]],
    attentionMask: [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]],
    images: [1, 1],
    expected: [[0, 0, 101, 102, 5], [6, 103, 104, 7, 8]],
  },
  {
    name: "rows with two images and one image",
    ids: [[V, V, 5, V, V, 6], [7, V, V, 8, P, P]],
    attentionMask: [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]],
    images: [2, 1],
    expected: [[101, 102, 5, 103, 104, 6], [7, 105, 106, 8, 0, 0]],
  },
  {
    name: "vision and audio in one sample",
    ids: [[5, V, V, A, A, A, 6], [A, A, A, 7, 8, 9, P]],
    attentionMask: [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0]],
    images: [1, 0],
    clips: [1, 1],
    expected: [[5, 101, 102, 201, 202, 203, 6], [204, 205, 206, 7, 8, 9, 0]],
  },
  {
    name: "samples without an image",
    ids: [[5, 6, 7], [V, V, 8], [9, P, P]],
    attentionMask: [[1, 1, 1], [1, 1, 1], [1, 0, 0]],
    images: [0, 1, 0],
    expected: [[5, 6, 7], [101, 102, 8], [9, 0, 0]],
  },
  {
    name: "text only",
    ids: [[5, 6, 7], [8, P, P]],
    attentionMask: [[1, 1, 1], [1, 0, 0]],
    expected: [[5, 6, 7], [8, 0, 0]],
  },
];

function buildModel(options: { embeddingScale?: number; scaleInjectedFeatures?: boolean } = {}): MultimodalModel {
  const model = new MultimodalModel({
    encoders: {
      vision: new ModalEncoderModule({ model: new IdentityEncoder(1, "pixel_values", 2), projector: new IdentityProjector(1) }),
      audio: new ModalEncoderModule({ model: new IdentityEncoder(1, "input_features", 3), projector: new IdentityProjector(1) }),
    },
    languageModel: new RecordingLanguageModel(VOCAB, 1, options.embeddingScale),
    scaleInjectedFeatures: options.scaleInjectedFeatures,
  });
  model.setModalityTokenIds({ vision: V, audio: A });
  return model;
}

/** `count` inputs of `rows` feature rows each, numbered first, first + 1, ... over the batch: [count, rows, 1]. */
function numberedInputs(count: number, rows: number, first: number): tf.Tensor {
  return tf.tensor3d(Array.from({ length: count }, (_, k) => Array.from({ length: rows }, (_, n) => [first + k * rows + n])));
}

function batchFor(testCase: Case, withLabels = false): MultimodalBatch {
  const batch: MultimodalBatch = {
    input_ids: tf.tensor2d(testCase.ids, undefined, "int32"),
    attention_mask: tf.tensor2d(testCase.attentionMask, undefined, "int32"),
    encoderInputs: {},
  };
  if (withLabels) batch.labels = tf.tensor2d(testCase.ids, undefined, "int32");
  const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
  if (testCase.images !== undefined) {
    batch.encoderInputs!.vision = { inputs: { pixel_values: numberedInputs(sum(testCase.images), 2, 101) }, inputsPerSample: testCase.images };
  }
  if (testCase.clips !== undefined) {
    batch.encoderInputs!.audio = { inputs: { input_features: numberedInputs(sum(testCase.clips), 3, 201) }, inputsPerSample: testCase.clips };
  }
  return batch;
}

function disposeBatch(batch: MultimodalBatch): void {
  tf.dispose([batch.input_ids, batch.attention_mask!, ...(batch.labels === undefined ? [] : [batch.labels])]);
  for (const entry of Object.values(batch.encoderInputs ?? {})) tf.dispose(Object.values(entry.inputs));
}

/** Channel 0 of the recorded [B, T, C] embeddings. */
function recordedRows(model: MultimodalModel): number[][] {
  const recorded = (model.languageModel as RecordingLanguageModel).recorded!;
  return recorded.inputsEmbeds.map((row) => row.map(([value]) => value));
}

describe.each(TEST_BACKENDS)("MultimodalModel injection on %s", (backend) => {
  it.each(CASES)("$name", async (testCase) => {
    await useBackend(backend);
    const model = buildModel();
    const batch = batchFor(testCase);
    const leaked = await countLeakedTensors(() => {
      const { logits, loss } = model.forward(batch);
      expect(loss).toBeUndefined();
      expect(logits.shape).toEqual([testCase.ids.length, testCase.ids[0].length, VOCAB]);
      logits.dispose();
    });
    expect(leaked).toBe(0);
    expect(recordedRows(model)).toEqual(testCase.expected);
    expect((model.languageModel as RecordingLanguageModel).recorded!.attentionMask).toEqual(testCase.attentionMask);
    expect((model.languageModel as RecordingLanguageModel).recorded!.labels).toBeUndefined();
    disposeBatch(batch);
    model.dispose();
  });

  it("sets labels to -100 at placeholders and keeps the rest", async () => {
    await useBackend(backend);
    const model = buildModel();
    const batch = batchFor(CASES[3], true);
    const { logits, loss } = model.forward(batch);
    expect(loss).toBeDefined();
    const expected = CASES[3].ids.flat().map((id) => (id === V || id === A ? -100 : id));
    expect((model.languageModel as RecordingLanguageModel).recorded!.labels).toEqual(expected);
    tf.dispose([logits, loss!]);
    disposeBatch(batch);
    model.dispose();
  });

  it("scales injected features by the LLM's embeddingScale", async () => {
    await useBackend(backend);
    const scaled = buildModel({ embeddingScale: 3 });
    const unscaled = buildModel({ embeddingScale: 3, scaleInjectedFeatures: false });
    const batch = batchFor(CASES[0]);
    tf.dispose(Object.values(scaled.forward(batch)));
    tf.dispose(Object.values(unscaled.forward(batch)));
    expect(recordedRows(scaled)).toEqual([[303, 306, 15, 18, 0, 0], [15, 309, 312, 18, 21, 24]]);
    expect(recordedRows(unscaled)).toEqual([[101, 102, 15, 18, 0, 0], [15, 103, 104, 18, 21, 24]]);
    disposeBatch(batch);
    scaled.dispose();
    unscaled.dispose();
  });

  it("rejects placeholders of a modality without inputs", async () => {
    await useBackend(backend);
    const model = buildModel();
    const batch = batchFor({ ...CASES[3], clips: undefined, images: [1, 0] });
    expect(() => model.forward(batch)).toThrow(ModalityMismatchError);
    expect(() => model.forward(batch)).toThrow(/^audio: sample 0 has 3 placeholder tokens but the encoder produced 0 feature rows/);
    disposeBatch(batch);
    model.dispose();
  });

  it("rejects a feature count that differs from featuresPerInput", async () => {
    await useBackend(backend);
    const model = new MultimodalModel({
      encoders: { vision: new ModalEncoderModule({ model: new IdentityEncoder(1), projector: new IdentityProjector(1), featuresPerInput: 3 }) },
      languageModel: new RecordingLanguageModel(VOCAB, 1),
    });
    model.setModalityTokenIds({ vision: V });
    const batch = batchFor({ ...CASES[0], clips: undefined });
    expect(() => model.forward(batch)).toThrow(ShapeError);
    expect(() => model.forward(batch)).toThrow(/^vision: the encoder module produced 2 feature rows per input but its featuresPerInput is 3/);
    disposeBatch(batch);
    model.dispose();
  });
});
