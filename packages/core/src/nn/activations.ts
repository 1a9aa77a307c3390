import * as tf from "@tensorflow/tfjs";
import { ConfigError } from "../errors/errors";

export type Activation = (x: tf.Tensor) => tf.Tensor;

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

function geluExact(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.div(x, Math.SQRT2)), 1)));
}

function geluTanh(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), SQRT_2_OVER_PI);
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  });
}

/** Activations by their Hugging Face `hidden_act` / `ACT2FN` names. */
export const ACTIVATIONS: Record<string, Activation> = {
  gelu: geluExact,
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  gelu_fast: geluTanh,
  quick_gelu: (x) => tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)))),
  relu: (x) => tf.relu(x),
  silu: (x) => tf.tidy(() => tf.mul(x, tf.sigmoid(x))),
  swish: (x) => tf.tidy(() => tf.mul(x, tf.sigmoid(x))),
  sigmoid: (x) => tf.sigmoid(x),
  tanh: (x) => tf.tanh(x),
};

/** Looks up an activation by Hugging Face name; an unknown name lists the known ones. */
export function getActivation(name: string, source = "activation"): Activation {
  const activation = ACTIVATIONS[name];
  if (activation === undefined) {
    throw new ConfigError(`${source}: unknown activation "${name}"; use one of ${Object.keys(ACTIVATIONS).join(", ")}`, source);
  }
  return activation;
}
