import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { countLeakedTensors, readJson, useBackend } from "@mm/core/testing";
import { fixtureDirectory } from "../testing/fixture-suite";
import { attentionBias, MASKED_SCORE } from "./attention-mask";

/** transformers 4.40.2's allowed (query, key) pairs for the Mistral fixture: [B][T][T]. */
const mistralRefs = readJson<{ inputs: { attention_mask: number[][] }; sliding_window_semantics: { sliding_window: number; allowed: boolean[][][] } }>(
  `${fixtureDirectory("mistral")}/refs.json`,
);

describe("attentionBias", () => {
  beforeAll(async () => {
    await useBackend("cpu");
  });

  it("matches transformers' sliding window with padding", () => {
    const { sliding_window: window, allowed } = mistralRefs.sliding_window_semantics;
    const mask = tf.tensor2d(mistralRefs.inputs.attention_mask, undefined, "int32");
    const bias = attentionBias(mask, 2, 12, window);
    expect(bias.shape).toEqual([2, 1, 12, 12]);
    const values = bias.dataSync();
    const actual = allowed.map((rows, b) => rows.map((row, i) => row.map((_, j) => values[(b * 12 + i) * 12 + j] === 0)));
    expect(actual).toEqual(allowed);
    expect(values.every((value) => value === 0 || value === MASKED_SCORE)).toBe(true);
    tf.dispose([mask, bias]);
  });

  it("is one causal [1, 1, T, T] matrix without padding", () => {
    const ones = tf.ones([2, 3], "int32");
    const bias = attentionBias(ones, 2, 3);
    expect(bias.shape).toEqual([1, 1, 3, 3]);
    const M = MASKED_SCORE;
    expect(Array.from(bias.dataSync())).toEqual([0, M, M, 0, 0, M, 0, 0, 0]);
    tf.dispose([ones, bias]);
  });

  it("gives left-padding queries rows that softmax spreads evenly", () => {
    const mask = tf.tensor2d([[0, 0, 1]], undefined, "int32");
    const bias = attentionBias(mask, 1, 3);
    const scores = tf.tensor4d([0.5, -2, 3, 1, 2, 0.25, 4, -1, 0.5], [1, 1, 3, 3]);
    const weights = tf.softmax(tf.add(scores, bias)).dataSync();
    // Query 0 may attend no key, so transformers' eager attention averages all keys.
    expect(Array.from(weights.slice(0, 3))).toEqual([1 / 3, 1 / 3, 1 / 3].map(Math.fround));
    expect(Array.from(weights.slice(6, 9))).toEqual([0, 0, 1]);
    tf.dispose([mask, bias, scores]);
  });

  it("places queries after the cached keys, with the window", () => {
    // 3 cached keys, 2 new queries at positions 3 and 4, window 2: each query attends its own
    // position and the 2 before it.
    const bias = attentionBias(undefined, 1, 2, 2, 3);
    expect(bias.shape).toEqual([1, 1, 2, 5]);
    const M = MASKED_SCORE;
    expect(Array.from(bias.dataSync())).toEqual([M, 0, 0, 0, M, M, M, 0, 0, 0]);
    bias.dispose();
  });

  it("masks cached padding keys", () => {
    const mask = tf.tensor2d([[0, 1, 1, 1]], undefined, "int32");
    const bias = attentionBias(mask, 1, 1, undefined, 3);
    expect(bias.shape).toEqual([1, 1, 1, 4]);
    expect(Array.from(bias.dataSync())).toEqual([MASKED_SCORE, 0, 0, 0]);
    tf.dispose([mask, bias]);
  });

  it("rejects a mask of the wrong shape and leaks nothing", async () => {
    const mask = tf.ones([2, 4], "int32");
    expect(() => attentionBias(mask, 2, 3)).toThrow(/attention_mask is \[2,4\] but the inputs are \[2, 3\]/);
    const leaked = await countLeakedTensors(() => attentionBias(mask, 2, 4).dispose());
    expect(leaked).toBe(0);
    mask.dispose();
  });
});
