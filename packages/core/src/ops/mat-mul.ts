import * as tf from "@tensorflow/tfjs";
import { customGradient } from "./custom-gradient";

/** Swaps the last two axes: [..., M, K] -> [..., K, M]. */
export function transposeLastTwo(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const rank = perm.length;
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return tf.transpose(x, perm);
}

/**
 * Matrix product a @ b for tensors of equal rank (2 to 4) and equal batch axes:
 * [..., M, K] @ [..., K, N] -> [..., M, N].
 *
 * Its gradient transposes explicitly before multiplying (dA = dC @ Bᵀ, dB = Aᵀ @ dC) because the
 * WASM backend's matMul with transpose flags runs about 10x slower than without (tfjs 4.22).
 */
export function matMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const op = customGradient((x: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, y]);
    return {
      value: tf.matMul(x, y),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedA, savedB] = saved;
        return [tf.matMul(dy, transposeLastTwo(savedB)), tf.matMul(transposeLastTwo(savedA), dy)];
      },
    };
  });
  return op(a, b);
}
