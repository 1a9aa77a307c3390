import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { assertClose, countLeakedTensors, gradientsOf, TEST_BACKENDS, useBackend } from "../testing";
import { linear } from "./linear";
import { matMul } from "./mat-mul";

describe.each(TEST_BACKENDS)("matMul on %s", (backend) => {
  it.each([
    [[5, 4], [4, 3]],
    [[2, 5, 4], [2, 4, 3]],
    [[2, 3, 5, 4], [2, 3, 4, 6]],
  ])("gradients match tf.matMul for %j @ %j", async (aShape, bShape) => {
    const expected = await gradientsOf("cpu", [aShape, bShape], (a, b) => tf.matMul(a, b));
    const actual = await gradientsOf(backend, [aShape, bShape], matMul);
    assertClose(actual[0], expected[0], 1e-5, "dA");
    assertClose(actual[1], expected[1], 1e-5, "dB");
  });

  it("forward leaves no tensors behind", async () => {
    await useBackend(backend);
    const a = tf.ones([3, 4]);
    const b = tf.ones([4, 2]);
    expect(await countLeakedTensors(() => tf.tidy(() => matMul(a, b)).dispose())).toBe(0);
    tf.dispose([a, b]);
  });
});

describe.each(TEST_BACKENDS)("linear on %s", (backend) => {
  it("gradients match x @ Wᵀ with tfjs ops", async () => {
    const shapes = [[2, 3, 6], [4, 6]];
    const expected = await gradientsOf("cpu", shapes, (x, w) => tf.matMul(x.reshape([-1, 6]), w, false, true).reshape([2, 3, 4]));
    const actual = await gradientsOf(backend, shapes, (x, w) => linear(x, w));
    assertClose(actual[0], expected[0], 1e-5, "dx");
    assertClose(actual[1], expected[1], 1e-5, "dW");
  });

  it("a frozen weight variable gets no gradient but x still does", async () => {
    await useBackend(backend);
    const weight = tf.variable(tf.randomNormal([4, 6]), false);
    const x = tf.variable(tf.randomNormal([3, 6]), true);
    const { grads } = tf.variableGrads(() => tf.sum(linear(x, weight)) as tf.Scalar, [x]);
    expect(Object.keys(grads)).toEqual([x.name]);
    const expectedDx = tf.tidy(() => tf.matMul(tf.ones([3, 4]), weight));
    assertClose(grads[x.name], expectedDx, 1e-6, "dx");
    tf.dispose([weight, x, expectedDx, ...Object.values(grads)]);
  });

  it("a frozen weight made inside tf.tidy still serves the backward pass", async () => {
    await useBackend(backend);
    const weight = tf.variable(tf.randomNormal([4, 6]), false);
    const x = tf.variable(tf.randomNormal([3, 6]), true);
    const { grads } = tf.variableGrads(() => tf.sum(tf.tidy(() => linear(x, tf.mul(weight, 2), undefined, false))) as tf.Scalar, [x]);
    const expectedDx = tf.tidy(() => tf.matMul(tf.ones([3, 4]), tf.mul(weight, 2)));
    assertClose(grads[x.name], expectedDx, 1e-6, "dx");
    tf.dispose([weight, x, expectedDx, ...Object.values(grads)]);
  });
});
