import * as tf from "@tensorflow/tfjs";
import { ShapeError } from "@mm/core";
import { TEST_BACKENDS, assertClose, gradientsOf } from "@mm/core/testing";
import { describe, expect, it } from "vitest";
import { conv1d } from "./conv1d";

/** Computes the same convolution with tfjs' conv1d (NWC input, [K, I, O] filter), which the CPU backend can differentiate. */
function tfjsConv1d(stride: number, padding: number) {
  return (x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor => {
    const padded = tf.pad(x, [[0, 0], [padding, padding], [0, 0]]) as tf.Tensor3D;
    const filter = weight.transpose([2, 1, 0]) as tf.Tensor3D;
    return tf.add(tf.conv1d(padded, filter, stride, "valid"), bias);
  };
}

const cases = [
  { stride: 1, padding: 1, length: 9 },
  { stride: 2, padding: 1, length: 9 },
  { stride: 2, padding: 1, length: 8 },
  { stride: 3, padding: 0, length: 11 },
  { stride: 1, padding: 2, length: 4 },
];

describe.each(TEST_BACKENDS)("conv1d on %s", (backend) => {
  it.each(cases)("matches tfjs conv1d with stride $stride, padding $padding, length $length", async ({ stride, padding, length }) => {
    const shapes = [[2, length, 4], [5, 4, 3], [5]];
    const expected = await gradientsOf("cpu", shapes, tfjsConv1d(stride, padding));
    const actual = await gradientsOf(backend, shapes, (x, w, b) => conv1d(x, w, b, { stride, padding }));
    for (let i = 0; i < 3; i++) assertClose(actual[i], expected[i], 1e-5, `gradient ${i}`);
  });

  it("matches tfjs conv1d forward", async () => {
    const x = tf.randomNormal([2, 10, 3], 0, 1, "float32", 1);
    const weight = tf.randomNormal([4, 3, 3], 0, 1, "float32", 2);
    const bias = tf.randomNormal([4], 0, 1, "float32", 3);
    const actual = conv1d(x, weight, bias, { stride: 2, padding: 1 });
    expect(actual.shape).toEqual([2, 5, 4]);
    assertClose(actual, tfjsConv1d(2, 1)(x, weight, bias), 1e-5);
    tf.dispose([x, weight, bias, actual]);
  });

  it("rejects an input with the wrong channel count", () => {
    const x = tf.zeros([1, 8, 2]);
    const weight = tf.zeros([4, 3, 3]);
    expect(() => conv1d(x, weight)).toThrow(ShapeError);
    expect(() => conv1d(x, weight)).toThrow(/input has shape \[1,8,2\] but the weight \[4,3,3\] expects \[batch, length, 3\]/);
    tf.dispose([x, weight]);
  });
});
