import * as tf from "@tensorflow/tfjs";
import { Linear, Module, ShapeError, matMul, transposeLastTwo } from "@mm/core";

// Shape letters: B batch, T query length, S key length, C hidden, H heads, D head dim (C / H).

/** [B, T, C] -> [B, H, T, D]. */
function splitHeads(x: tf.Tensor, numHeads: number): tf.Tensor {
  const [batch, length, hidden] = x.shape;
  return x.reshape([batch, length, numHeads, hidden / numHeads]).transpose([0, 2, 1, 3]);
}

/** [B, H, T, D] -> [B, T, C]. */
function mergeHeads(x: tf.Tensor): tf.Tensor {
  const [batch, numHeads, length, headDim] = x.shape;
  return x.transpose([0, 2, 1, 3]).reshape([batch, length, numHeads * headDim]);
}

/**
 * Computes unmasked scaled dot-product attention over projected queries, keys and values, as the
 * eager attention of Hugging Face's CLIP, SigLIP, ViT and Whisper encoders does. The queries are
 * scaled by 1/√D before the product, and the softmax runs over the keys.
 *
 * query: [B, T, C]; key, value: [B, S, C] float32. Returns [B, T, C].
 * The products go through core's matMul, whose gradient is fast on WASM.
 */
export function scaledDotProductAttention(query: tf.Tensor, key: tf.Tensor, value: tf.Tensor, numHeads: number): tf.Tensor {
  return tf.tidy(() => {
    const headDim = query.shape[2]! / numHeads;
    const q = splitHeads(tf.mul(query, 1 / Math.sqrt(headDim)), numHeads); // [B, H, T, D]
    const keysTransposed = transposeLastTwo(splitHeads(key, numHeads)); // [B, H, D, S]
    const v = splitHeads(value, numHeads); // [B, H, S, D]
    const weights = tf.softmax(matMul(q, keysTransposed)); // [B, H, T, S]
    return mergeHeads(matMul(weights, v));
  });
}

function checkHeadCount(hiddenSize: number, numHeads: number, source: string): void {
  if (!Number.isInteger(hiddenSize / numHeads)) {
    throw new ShapeError(`${source}: hidden size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
  }
}

export interface SelfAttentionOptions {
  /** Whether `k_proj` has a bias; Whisper's does not. */
  keyBias?: boolean;
}

/**
 * Multi-head self-attention with Hugging Face's CLIP/SigLIP/Whisper weight names: `q_proj`,
 * `k_proj`, `v_proj` and `out_proj`, each a Linear [C, C].
 */
export class SelfAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly out_proj: Linear;

  constructor(
    readonly hiddenSize: number,
    readonly numHeads: number,
    { keyBias = true }: SelfAttentionOptions = {},
  ) {
    super();
    checkHeadCount(hiddenSize, numHeads, "self-attention");
    this.k_proj = this.addModule("k_proj", new Linear(hiddenSize, hiddenSize, { bias: keyBias }));
    this.v_proj = this.addModule("v_proj", new Linear(hiddenSize, hiddenSize));
    this.q_proj = this.addModule("q_proj", new Linear(hiddenSize, hiddenSize));
    this.out_proj = this.addModule("out_proj", new Linear(hiddenSize, hiddenSize));
  }

  /** hiddenStates: [B, T, C] -> [B, T, C]. */
  forward(hiddenStates: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const query = this.q_proj.forward(hiddenStates);
      const key = this.k_proj.forward(hiddenStates);
      const value = this.v_proj.forward(hiddenStates);
      return this.out_proj.forward(scaledDotProductAttention(query, key, value, this.numHeads));
    });
  }
}
