import * as tf from "@tensorflow/tfjs";
import { gatherRows } from "../ops/gather-rows";
import { randomNormalTensor } from "../random/seeded-random";
import { Module } from "./module";

/** Lookup table of `numEmbeddings` vectors: weight [V, C]. */
export class Embedding extends Module {
  readonly weight: tf.Variable;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    { initStd = 0.02 }: { initStd?: number } = {},
  ) {
    super();
    this.weight = this.addParameter("weight", randomNormalTensor([numEmbeddings, embeddingDim], initStd));
  }

  /** ids: int32 [...] -> [..., C]. Works and differentiates on WASM (see gatherRows). */
  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => gatherRows(this.weight, ids.reshape([-1])).reshape([...ids.shape, this.embeddingDim]));
  }
}
