import * as tf from "@tensorflow/tfjs";
import { Module, patchEmbedding, randomNormalTensor } from "@mm/core";

/**
 * PyTorch `Conv2d` with kernel size = stride = patch size, as vision transformers use it to embed
 * patches: weight [C, channels, p, p], bias [C] when `bias` is set.
 */
export class PatchConv extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(numChannels: number, hiddenSize: number, patchSize: number, { bias }: { bias: boolean }) {
    super();
    this.weight = this.addParameter("weight", randomNormalTensor([hiddenSize, numChannels, patchSize, patchSize], 0.02));
    this.bias = bias ? this.addParameter("bias", tf.zeros([hiddenSize])) : undefined;
  }

  /** pixelValues: [B, channels, H, W] -> [B, (H/p)·(W/p), C], patches in row-major order. */
  forward(pixelValues: tf.Tensor): tf.Tensor {
    return patchEmbedding(pixelValues, this.weight, this.bias);
  }
}
