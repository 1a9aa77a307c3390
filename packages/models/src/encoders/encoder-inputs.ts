import * as tf from "@tensorflow/tfjs";
import { InputError, ShapeError, type EncoderOutput } from "@mm/core";

/** Returns `inputs[key]`, or throws an InputError naming the model and the keys that were passed. */
export function requireInput(inputs: Record<string, tf.Tensor>, key: string, model: string): tf.Tensor {
  const tensor = inputs[key];
  if (tensor === undefined) {
    const passed = Object.keys(inputs).join(", ") || "none";
    throw new InputError(`${model}: missing input "${key}" (passed: ${passed}); pass the processor's ${key}`);
  }
  return tensor;
}

/** Throws a ShapeError unless `tensor` has `expected` shape, where null matches any size (the batch). */
export function checkShape(tensor: tf.Tensor, expected: Array<number | null>, key: string, model: string): void {
  const matches = tensor.rank === expected.length && expected.every((size, i) => size === null || size === tensor.shape[i]);
  if (!matches) {
    const expectedText = expected.map((size) => (size === null ? "batch" : String(size))).join(", ");
    throw new ShapeError(`${model}: ${key} has shape [${tensor.shape}] but the model expects [${expectedText}]`);
  }
}

/**
 * Runs `body` in tf.tidy and keeps only the returned output's tensors. Absent fields stay absent,
 * and a tensor that appears twice (CLIP's last hidden state) is kept once.
 */
export function tidyEncoderOutput(body: () => EncoderOutput): EncoderOutput {
  return tf.tidy(() => {
    const output = body();
    const result: Record<string, tf.Tensor | tf.Tensor[]> = { last_hidden_state: output.last_hidden_state };
    if (output.pooler_output !== undefined) result.pooler_output = output.pooler_output;
    if (output.hidden_states !== undefined) result.hidden_states = output.hidden_states;
    return result;
  }) as unknown as EncoderOutput;
}
