import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { ModalityMismatchError } from "../errors/errors";
import { countLeakedTensors, TEST_BACKENDS, useBackend } from "../testing";
import { injectFeatures, maskModalityIds, type ModalityFeatures } from "./inject-features";

const V = 900; // vision placeholder id
const A = 901; // audio placeholder id
const P = 0; // padding id

interface Case {
  name: string;
  ids: number[][];
  vision?: number[]; // feature rows per sample
  audio?: number[];
  /** Expected value at each position: 100 + position for text, 1.. for vision rows, 51.. for audio rows. */
  expected: number[][];
}

// Text embeddings are 100 + flattened position; vision feature rows are 1, 2, ...; audio rows 51, 52, ...
const CASES: Case[] = [
  { name: "no modality", ids: [[5, 6, 7]], expected: [[100, 101, 102]] },
  { name: "vision only, right padded", ids: [[5, V, V, 6], [V, V, 7, P]], vision: [2, 2], expected: [[100, 1, 2, 103], [3, 4, 106, 107]] },
  { name: "vision only, left padded", ids: [[P, V, V, 6], [5, V, V, 7]], vision: [2, 2], expected: [[100, 1, 2, 103], [104, 3, 4, 107]] },
  { name: "two images in one row and none in the other", ids: [[V, 5, V, 6], [5, 6, 7, P]], vision: [2, 0], expected: [[1, 101, 2, 103], [104, 105, 106, 107]] },
  { name: "audio only", ids: [[A, A, 5]], audio: [2], expected: [[51, 52, 102]] },
  { name: "vision and audio in one sample", ids: [[V, A, 5, V, A]], vision: [2], audio: [2], expected: [[1, 51, 102, 2, 52]] },
];

function modalitiesFor(testCase: Case): ModalityFeatures[] {
  const modalities: ModalityFeatures[] = [];
  const add = (modality: string, tokenId: number, rowsPerSample: number[] | undefined, first: number) => {
    if (rowsPerSample === undefined) return;
    const total = rowsPerSample.reduce((a, b) => a + b, 0);
    const features = tf.tensor2d(Array.from({ length: total }, (_, i) => [first + i]), [total, 1]);
    modalities.push({ modality, tokenId, features, rowsPerSample });
  };
  add("vision", V, testCase.vision, 1);
  add("audio", A, testCase.audio, 51);
  return modalities;
}

function textEmbeddings(ids: number[][]): tf.Tensor {
  const length = ids[0].length;
  return tf.tensor3d(ids.map((row, b) => row.map((_, t) => [100 + b * length + t])));
}

describe.each(TEST_BACKENDS)("injectFeatures on %s", (backend) => {
  it.each(CASES)("$name", async (testCase) => {
    await useBackend(backend);
    const modalities = modalitiesFor(testCase);
    const text = textEmbeddings(testCase.ids);
    const merged = injectFeatures(text, Int32Array.from(testCase.ids.flat()), modalities);
    expect((merged.arraySync() as number[][][]).map((row) => row.map(([value]) => value))).toEqual(testCase.expected);
    tf.dispose([text, merged, ...modalities.map((m) => m.features)]);
  });

  it("names the modality, sample and both counts on a mismatch", async () => {
    await useBackend(backend);
    const ids = [[5, 6, 7, 8], [V, V, V, V]];
    const modalities = modalitiesFor({ name: "", ids, vision: [0, 2], expected: [] });
    const text = textEmbeddings(ids);
    expect(() => injectFeatures(text, Int32Array.from(ids.flat()), modalities)).toThrow(ModalityMismatchError);
    expect(() => injectFeatures(text, Int32Array.from(ids.flat()), modalities)).toThrow(
      /^vision: sample 1 has 4 placeholder tokens but the encoder produced 2 feature rows for it/,
    );
    tf.dispose([text, ...modalities.map((m) => m.features)]);
  });

  it("sends gradients to the features and to text rows that were kept", async () => {
    await useBackend(backend);
    const ids = [[5, V, V, 6]];
    const text = tf.variable(tf.ones([1, 4, 2]), true);
    const features = tf.variable(tf.ones([2, 2]), true);
    const weights = tf.tensor3d([[[1, 2], [3, 4], [5, 6], [7, 8]]]);
    const leaked = await countLeakedTensors(() => {
      const { value, grads } = tf.variableGrads(() => {
        const merged = injectFeatures(text, Int32Array.from(ids.flat()), [{ modality: "vision", tokenId: V, features, rowsPerSample: [2] }]);
        return tf.sum(tf.mul(merged, weights)) as tf.Scalar;
      }, [text, features]);
      expect(grads[text.name].arraySync()).toEqual([[[1, 2], [0, 0], [0, 0], [7, 8]]]);
      expect(grads[features.name].arraySync()).toEqual([[3, 4], [5, 6]]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    expect(leaked).toBe(0);
    tf.dispose([text, features, weights]);
  });
});

describe("maskModalityIds", () => {
  it("replaces every modality id by 0 and keeps the rest", () => {
    expect(Array.from(maskModalityIds(Int32Array.from([5, V, A, 7, V]), [V, A]))).toEqual([5, 0, 0, 7, 0]);
  });
});
