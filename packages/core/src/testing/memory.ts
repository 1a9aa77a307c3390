import * as tf from "@tensorflow/tfjs";

/**
 * Runs `body` and returns how many tensors it left allocated (tf.memory().numTensors after minus
 * before). Tests assert that this is 0 for every call that should clean up after itself.
 */
export async function countLeakedTensors(body: () => unknown | Promise<unknown>): Promise<number> {
  const before = tf.memory().numTensors;
  await body();
  return tf.memory().numTensors - before;
}
