import * as tf from "@tensorflow/tfjs";
import { Module } from "./module";

/** Layer normalisation over the last axis with a learned scale and shift: weight [C], bias [C]. */
export class LayerNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly size: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.addParameter("weight", tf.ones([size]));
    this.bias = this.addParameter("bias", tf.zeros([size]));
  }

  /** x: [..., C] -> [..., C]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const mean = tf.mean(x, -1, true);
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), -1, true);
      const normalized = tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(normalized, this.weight), this.bias);
    });
  }
}

/**
 * Root-mean-square normalisation (Llama): x / sqrt(mean(x²) + eps) · weight.
 * With `unitOffset` the scale is (1 + weight) and the weight starts at 0, as Gemma stores it.
 */
export class RMSNorm extends Module {
  readonly weight: tf.Variable;

  constructor(
    readonly size: number,
    readonly eps = 1e-6,
    readonly unitOffset = false,
  ) {
    super();
    this.weight = this.addParameter("weight", unitOffset ? tf.zeros([size]) : tf.ones([size]));
  }

  /** x: [..., C] -> [..., C]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const meanSquare = tf.mean(tf.square(x), -1, true);
      const normalized = tf.mul(x, tf.rsqrt(tf.add(meanSquare, this.eps)));
      const scale = this.unitOffset ? tf.add(this.weight, 1) : this.weight;
      return tf.mul(normalized, scale);
    });
  }
}
