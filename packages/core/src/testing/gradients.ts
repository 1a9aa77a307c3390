import * as tf from "@tensorflow/tfjs";
import { SeededRandom, randomNormalTensor } from "../random/seeded-random";
import { useBackend, type TestBackend } from "./backends";

/**
 * On `backend`, draws inputs of `shapes` and weights w from a seeded normal distribution and
 * returns the gradients of sum(f(inputs) · w) with respect to each input, as plain arrays. The
 * same seed gives the same inputs on every backend, so results can be compared across backends
 * and against a reference written with tfjs' own ops.
 */
export async function gradientsOf(
  backend: TestBackend,
  shapes: number[][],
  f: (...inputs: tf.Tensor[]) => tf.Tensor,
  seed = 7,
): Promise<Float32Array[]> {
  await useBackend(backend);
  return tf.tidy(() => {
    const random = new SeededRandom(seed);
    const inputs = shapes.map((shape) => randomNormalTensor(shape, 1, random));
    const weights = randomNormalTensor(f(...inputs).shape, 1, random);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), weights)))(inputs);
    return grads.map((g) => Float32Array.from(g.dataSync()));
  });
}
