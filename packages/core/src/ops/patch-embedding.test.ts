import * as tf from "@tensorflow/tfjs";
import { describe, it } from "vitest";
import { assertClose, gradientsOf, TEST_BACKENDS } from "../testing";
import { patchEmbedding } from "./patch-embedding";

/** PyTorch's conv(x).flatten(2).transpose(1, 2) written with tfjs' conv2d (NHWC, HWIO). */
function convReference(pixels: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const patch = weight.shape[2]!;
  const nhwc = pixels.transpose([0, 2, 3, 1]);
  const hwio = weight.transpose([2, 3, 1, 0]);
  const output = tf.add(tf.conv2d(nhwc as tf.Tensor4D, hwio as tf.Tensor4D, patch, "valid"), bias); // [B, H/p, W/p, C]
  return output.reshape([pixels.shape[0], -1, weight.shape[0]]);
}

describe.each(TEST_BACKENDS)("patchEmbedding on %s", (backend) => {
  it("matches a strided convolution and its gradients", async () => {
    const shapes = [[2, 3, 8, 12], [5, 3, 4, 4], [5]];
    const expected = await gradientsOf("cpu", shapes, convReference);
    const actual = await gradientsOf(backend, shapes, patchEmbedding);
    for (let i = 0; i < 3; i++) assertClose(actual[i], expected[i], 1e-5, `gradient ${i}`);
  });
});
