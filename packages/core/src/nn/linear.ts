import * as tf from "@tensorflow/tfjs";
import { linear } from "../ops/linear";
import { randomNormalTensor } from "../random/seeded-random";
import { Module } from "./module";

export interface LinearOptions {
  bias?: boolean;
  /** Standard deviation of the normal initialisation (Hugging Face's `initializer_range`). */
  initStd?: number;
}

/** Fully connected layer with PyTorch's weight layout: weight [out, in], bias [out]. */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { bias = true, initStd = 0.02 }: LinearOptions = {},
  ) {
    super();
    this.weight = this.addParameter("weight", randomNormalTensor([outFeatures, inFeatures], initStd));
    this.bias = bias ? this.addParameter("bias", tf.zeros([outFeatures])) : undefined;
  }

  /** x: [..., in] -> [..., out]. */
  forward(x: tf.Tensor): tf.Tensor {
    return linear(x, this.weight, this.bias);
  }
}
