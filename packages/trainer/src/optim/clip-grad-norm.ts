import * as tf from "@tensorflow/tfjs";

/**
 * Computes the global L2 norm of all gradients and, when it exceeds `maxNorm`, scales them by
 * maxNorm / (norm + 1e-6) as torch.nn.utils.clip_grad_norm_ does. Returns the clipped gradients
 * (new tensors when scaled; the inputs are then disposed) and the norm before clipping.
 */
export function clipGradNorm(grads: Record<string, tf.Tensor>, maxNorm: number | undefined): { grads: Record<string, tf.Tensor>; norm: number } {
  const norm = tf.tidy(() => {
    const squares = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    return Math.sqrt(squares.length === 0 ? 0 : tf.addN(squares).dataSync()[0]);
  });
  if (maxNorm === undefined || !(norm > maxNorm)) return { grads, norm };
  const scale = maxNorm / (norm + 1e-6);
  const clipped: Record<string, tf.Tensor> = {};
  for (const [path, gradient] of Object.entries(grads)) {
    clipped[path] = tf.mul(gradient, scale);
    gradient.dispose();
  }
  return { grads: clipped, norm };
}
