import * as tf from "@tensorflow/tfjs";

/** Adds `grads` into `sum` (by path), disposing the added tensors and the replaced sums. */
export function accumulateGradients(sum: Record<string, tf.Tensor>, grads: tf.NamedTensorMap): void {
  for (const [path, gradient] of Object.entries(grads)) {
    const previous = sum[path];
    if (previous === undefined) {
      sum[path] = gradient;
      continue;
    }
    sum[path] = tf.add(previous, gradient);
    tf.dispose([previous, gradient]);
  }
}
