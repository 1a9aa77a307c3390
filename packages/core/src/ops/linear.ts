import * as tf from "@tensorflow/tfjs";
import { customGradient } from "./custom-gradient";

/**
 * Affine map y = x Wᵀ + b with the weight in PyTorch layout.
 *
 * x: [..., in] float32; weight: [out, in]; bias: [out] or undefined. Returns [..., out].
 * The gradient multiplies explicitly transposed operands (fast on WASM). When the weight is a
 * frozen variable (`trainable` false) it is kept out of the gradient entirely, so backward only
 * computes dx and no weight-gradient matMul runs. Pass `trainWeight` when the weight is a reshaped
 * view of a variable, whose own flag is lost.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor, trainWeight = isTrainable(weight)): tf.Tensor {
  const inFeatures = weight.shape[1]!;
  const leading = x.shape.slice(0, -1);
  const rows = x.reshape([-1, inFeatures]); // [N, in]
  const product = trainWeight ? trainableProduct(rows, weight) : frozenProduct(rows, weight);
  const output = bias === undefined ? product : tf.add(product, bias);
  return output.reshape([...leading, weight.shape[0]]);
}

function trainableProduct(rows: tf.Tensor, weight: tf.Tensor): tf.Tensor {
  const op = customGradient((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, w]);
    return {
      value: tf.matMul(x, tf.transpose(w)), // [N, in] @ [in, out]
      gradFunc: (dy: tf.Tensor, [savedX, savedW]: tf.Tensor[]) => [
        tf.matMul(dy, savedW), // dx: [N, out] @ [out, in]
        tf.matMul(tf.transpose(dy), savedX), // dW: [out, N] @ [N, in]
      ],
    };
  });
  return op(rows, weight);
}

function frozenProduct(rows: tf.Tensor, weight: tf.Tensor): tf.Tensor {
  // The weight is saved (not only captured) because it may be a temporary made inside a
  // tf.tidy that has ended before the backward pass runs.
  const op = customGradient((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([weight]);
    return {
      value: tf.matMul(x, tf.transpose(weight)),
      gradFunc: (dy: tf.Tensor, [savedWeight]: tf.Tensor[]) => tf.matMul(dy, savedWeight),
    };
  });
  return op(rows);
}

/** True unless `tensor` is a variable marked as not trainable. */
export function isTrainable(tensor: tf.Tensor): boolean {
  return !(tensor instanceof tf.Variable) || tensor.trainable;
}
