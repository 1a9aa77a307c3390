import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { assertClose, countLeakedTensors, gradientsOf, TEST_BACKENDS, useBackend } from "../testing";
import { causalLmLoss, causalLmLossAtTrainedPositions, IGNORE_INDEX, shiftLabels } from "./cross-entropy";
import { linear } from "./linear";

const X = IGNORE_INDEX;
// [2, 5] labels over a vocabulary of 11: row 0 ignores its prompt, row 1 is right-padded.
const LABELS = Int32Array.from([X, X, 4, 7, 2, 9, 0, 10, X, X]);

/** Mean next-token cross-entropy written with log-softmax and one-hot, the textbook form. */
function referenceLoss(logits: tf.Tensor, labels: Int32Array, normalizer?: number): tf.Tensor {
  const [batch, length, vocab] = logits.shape;
  const targets = shiftLabels(labels, batch, length);
  const mask = tf.tensor1d(Array.from(targets, (t) => (t === X ? 0 : 1)));
  const safe = tf.tensor1d(Array.from(targets, (t) => (t === X ? 0 : t)), "int32");
  const logProbabilities = tf.logSoftmax(logits.reshape([batch * length, vocab]));
  const picked = tf.sum(tf.mul(logProbabilities, tf.oneHot(safe, vocab)), -1);
  return tf.div(tf.neg(tf.sum(tf.mul(picked, mask))), normalizer ?? tf.sum(mask));
}

describe("shiftLabels", () => {
  it("moves targets one step left and ignores the last position", () => {
    expect(Array.from(shiftLabels(Int32Array.from([1, 2, 3, 4, 5, 6]), 2, 3))).toEqual([2, 3, X, 5, 6, X]);
  });
});

describe.each(TEST_BACKENDS)("causalLmLoss on %s", (backend) => {
  it("matches the log-softmax reference in value and gradient", async () => {
    await useBackend(backend);
    const logits = tf.randomNormal([2, 5, 11], 0, 2, "float32", 3);
    const expected = tf.tidy(() => referenceLoss(logits, LABELS));
    const actual = causalLmLoss(logits, LABELS);
    assertClose(actual, expected, 1e-6, "loss");
    tf.dispose([logits, expected, actual]);

    const expectedGrad = await gradientsOf("cpu", [[2, 5, 11]], (x) => referenceLoss(x, LABELS));
    const actualGrad = await gradientsOf(backend, [[2, 5, 11]], (x) => causalLmLoss(x, LABELS));
    assertClose(actualGrad[0], expectedGrad[0], 1e-5, "dLogits");
  });

  it("divides by a given normalizer instead of its own token count", async () => {
    const expected = await gradientsOf("cpu", [[2, 5, 11]], (x) => referenceLoss(x, LABELS, 20));
    const actual = await gradientsOf(backend, [[2, 5, 11]], (x) => causalLmLoss(x, LABELS, { normalizer: 20 }));
    assertClose(actual[0], expected[0], 1e-5, "dLogits");
  });

  it("is 0 with a zero gradient when every label is -100", async () => {
    await useBackend(backend);
    const ignored = new Int32Array(3).fill(X);
    const logits = tf.randomNormal([1, 3, 5]);
    const loss = causalLmLoss(logits, ignored);
    expect(loss.dataSync()[0]).toBe(0);
    tf.dispose([logits, loss]);
    const [gradient] = await gradientsOf(backend, [[1, 3, 5]], (x) => causalLmLoss(x, ignored));
    expect(gradient.every((value) => value === 0)).toBe(true);
  });

  it("gives the same loss and gradients when the head runs only at trained positions", async () => {
    const full = (hidden: tf.Tensor, weight: tf.Tensor) => causalLmLoss(linear(hidden, weight), LABELS, { normalizer: 7 });
    const trainedOnly = (hidden: tf.Tensor, weight: tf.Tensor) => causalLmLossAtTrainedPositions(hidden, LABELS, (rows) => linear(rows, weight), { normalizer: 7 }).loss;
    const expected = await gradientsOf("cpu", [[2, 5, 4], [11, 4]], full);
    const actual = await gradientsOf(backend, [[2, 5, 4], [11, 4]], trainedOnly);
    assertClose(actual[0], expected[0], 1e-5, "dHidden");
    assertClose(actual[1], expected[1], 1e-5, "dWeight");
    await useBackend(backend);
    const hidden = tf.randomNormal([2, 5, 4]);
    const weight = tf.randomNormal([11, 4]);
    const { logits, loss } = causalLmLossAtTrainedPositions(hidden, LABELS, (rows) => linear(rows, weight));
    expect(logits.shape).toEqual([1, 5, 11]); // targets 4, 7, 2 in row 0; 0, 10 in row 1
    const reference = causalLmLoss(linear(hidden, weight), LABELS);
    assertClose(loss, reference, 1e-6, "loss");
    tf.dispose([hidden, weight, logits, loss, reference]);
  });

  it("stays exact when a target's probability underflows", async () => {
    await useBackend(backend);
    // Row 0, position 1 has target 4 (LABELS[2]); a logit 150 below the others gives it
    // probability e^-150, which float32 rounds to 0.
    const values = tf.randomNormal([2, 5, 11], 0, 1, "float32", 5).arraySync() as number[][][];
    values[0][1] = values[0][1].map((_, v) => (v === 4 ? 0 : 150));
    const logits = tf.tensor3d(values);
    const expected = tf.tidy(() => referenceLoss(logits, LABELS));
    const actual = causalLmLoss(logits, LABELS);
    expect(actual.dataSync()[0]).toBeGreaterThan(20); // that one term alone is about 152, over 7 targets
    assertClose(actual, expected, 1e-6, "loss");

    const [expectedGrad] = tf.grads((x: tf.Tensor) => referenceLoss(x, LABELS))([logits]);
    const [actualGrad] = tf.grads((x: tf.Tensor) => causalLmLoss(x, LABELS))([logits]);
    assertClose(actualGrad, expectedGrad, 1e-5, "dLogits");
    tf.dispose([logits, expected, actual, expectedGrad, actualGrad]);
  });

  it("rejects a label outside the vocabulary", async () => {
    await useBackend(backend);
    const logits = tf.zeros([1, 2, 5]);
    expect(() => causalLmLoss(logits, Int32Array.from([0, 9]))).toThrow(/label 9 .* outside the vocabulary of 5/);
    logits.dispose();
  });

  it("leaks no tensors over a forward and backward pass", async () => {
    await useBackend(backend);
    const logits = tf.variable(tf.randomNormal([2, 5, 11]), true);
    const leaked = await countLeakedTensors(() => {
      const { value, grads } = tf.variableGrads(() => causalLmLoss(logits, LABELS) as tf.Scalar, [logits]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    expect(leaked).toBe(0);
    logits.dispose();
  });

  it("leaks no tensors without a gradient tape", async () => {
    await useBackend(backend);
    const logits = tf.randomNormal([2, 5, 11]);
    const leaked = await countLeakedTensors(() => causalLmLoss(logits, LABELS).dispose());
    expect(leaked).toBe(0);
    const hidden = tf.randomNormal([2, 5, 4]);
    const weight = tf.randomNormal([11, 4]);
    const leakedAtTrained = await countLeakedTensors(() => {
      const result = causalLmLossAtTrainedPositions(hidden, LABELS, (rows) => linear(rows, weight));
      tf.dispose([result.logits, result.loss]);
    });
    expect(leakedAtTrained).toBe(0);
    tf.dispose([logits, hidden, weight]);
  });
});
