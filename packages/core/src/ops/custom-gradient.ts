import * as tf from "@tensorflow/tfjs";

type GradientResult = { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] };

/**
 * tf.customGrad with usable parameter types: `f` receives the tensor inputs, then the save
 * function, and returns the value with a gradient function giving one gradient per input.
 */
export function customGradient(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tensors followed by the save function
  f: (...args: any[]) => GradientResult,
): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(f as Parameters<typeof tf.customGrad>[0]) as (...inputs: tf.Tensor[]) => tf.Tensor;
}
