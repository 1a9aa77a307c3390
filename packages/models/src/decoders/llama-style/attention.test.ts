import * as tf from "@tensorflow/tfjs";
import { describe, it } from "vitest";
import { SeededRandom, randomNormalTensor } from "@mm/core";
import { assertClose, gradientsOf, TEST_BACKENDS, useBackend } from "@mm/core/testing";
import { attentionBias } from "./attention-mask";
import { groupedQueryAttention } from "./attention";

// B = 2, H = 4 query heads, K = 2 key/value heads, T = 5, D = 3.
const SHAPES = [
  [2, 4, 5, 3],
  [2, 2, 5, 3],
  [2, 2, 5, 3],
];
const PADDING = [
  [1, 1, 1, 1, 1],
  [0, 1, 1, 1, 0],
];

/** Textbook attention: copy each key/value head to its query heads (repeat_kv), then softmax(q kᵀ / √D + bias) v. */
function referenceAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const groups = q.shape[1]! / k.shape[1]!;
  const owner = tf.tensor1d(Array.from({ length: q.shape[1]! }, (_, h) => Math.floor(h / groups)), "int32");
  const keys = tf.gather(k, owner, 1); // [B, H, T, D]
  const values = tf.gather(v, owner, 1);
  const scores = tf.div(tf.matMul(q, keys, false, true), Math.sqrt(q.shape[3]!));
  return tf.matMul(tf.softmax(tf.add(scores, bias)), values);
}

describe.each(TEST_BACKENDS)("groupedQueryAttention on %s", (backend) => {
  it("matches repeat_kv attention", async () => {
    await useBackend(backend);
    const random = new SeededRandom(11);
    const [q, k, v] = SHAPES.map((shape) => randomNormalTensor(shape, 1, random));
    const mask = tf.tensor2d(PADDING, undefined, "int32");
    const bias = attentionBias(mask, 2, 5);
    const expected = referenceAttention(q, k, v, bias);
    const actual = groupedQueryAttention(q, k, v, bias);
    assertClose(actual, expected, 1e-6, "attention output");
    tf.dispose([q, k, v, mask, bias, expected, actual]);
  });

  it("matches repeat_kv attention in gradient", async () => {
    const withBias = (f: typeof referenceAttention) => (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => {
      const mask = tf.tensor2d(PADDING, undefined, "int32");
      return f(q, k, v, attentionBias(mask, 2, 5, 2));
    };
    const expected = await gradientsOf("cpu", SHAPES, withBias(referenceAttention));
    const actual = await gradientsOf(backend, SHAPES, withBias(groupedQueryAttention));
    ["dq", "dk", "dv"].forEach((name, i) => assertClose(actual[i], expected[i], 1e-5, name));
  });
});
