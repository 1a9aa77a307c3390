// Shape letters: B batch, T sequence, S key sequence (cached plus new tokens), C hidden, H query
// heads, K key/value heads, G = H / K query heads per key/value head, D head dim.
import * as tf from "@tensorflow/tfjs";
import { Linear, Module, matMul, transposeLastTwo } from "@mm/core";
import type { DecoderSettings } from "./decoder-settings";
import type { LayerKeyValueCache } from "./kv-cache";
import { applyRotary } from "./rotary-embedding";

/** Rotary tables, the additive mask and the layer's cache, which one attention layer needs besides its input. */
export interface AttentionContext {
  /** [1 or B, 1, T, D]. */
  cos: tf.Tensor;
  /** [1 or B, 1, T, D]. */
  sin: tf.Tensor;
  /** [1 or B, 1, T, S]: 0 where attention is allowed, a large negative number elsewhere. */
  bias: tf.Tensor;
  /** Keys and values of earlier tokens; this pass appends its own. Absent: S = T. */
  cache?: LayerKeyValueCache;
}

/**
 * Scaled dot-product attention in which each group of G query heads shares one key/value head
 * (query head h reads key/value head floor(h / G), as transformers' repeat_kv arranges it).
 * The G heads of a group are stacked along the sequence axis instead of copying keys and values,
 * so every product is one rank-4 matMul. Scores are divided by sqrt(D) as transformers 4.40 does.
 * q: [B, H, T, D]; k, v: [B, K, S, D]; bias: [1 or B, 1, T, S]. Returns [B, H, T, D].
 */
export function groupedQueryAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [batch, heads, length, headDim] = q.shape;
    const [, kvHeads, keyLength] = k.shape;
    const stacked = [batch, kvHeads, (heads / kvHeads) * length]; // [B, K, G·T]
    const grouped = q.reshape([...stacked, headDim]); // [B, K, G·T, D]
    const scores = tf.div(matMul(grouped, transposeLastTwo(k)), Math.sqrt(headDim)); // [B, K, G·T, S]
    const masked = tf.add(scores.reshape([batch, heads, length, keyLength]), bias); // [B, H, T, S]
    const weights = tf.softmax(masked).reshape([...stacked, keyLength]); // [B, K, G·T, S]
    return matMul(weights, v).reshape([batch, heads, length, headDim]); // [B, H, T, D]
  });
}

/** Multi-head self-attention with grouped key/value heads and rotary positions (LlamaAttention). */
export class DecoderAttention extends Module {
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly oProj: Linear;
  private readonly numHeads: number;
  private readonly numKeyValueHeads: number;
  private readonly headDim: number;

  constructor(settings: DecoderSettings) {
    super();
    const { hiddenSize, numAttentionHeads, numKeyValueHeads, headDim, initializerRange: initStd } = settings;
    this.numHeads = numAttentionHeads;
    this.numKeyValueHeads = numKeyValueHeads;
    this.headDim = headDim;
    const qkv = { bias: settings.qkvBias, initStd };
    this.qProj = this.addModule("q_proj", new Linear(hiddenSize, numAttentionHeads * headDim, qkv));
    this.kProj = this.addModule("k_proj", new Linear(hiddenSize, numKeyValueHeads * headDim, qkv));
    this.vProj = this.addModule("v_proj", new Linear(hiddenSize, numKeyValueHeads * headDim, qkv));
    this.oProj = this.addModule("o_proj", new Linear(numAttentionHeads * headDim, hiddenSize, { bias: settings.oProjBias, initStd }));
  }

  /**
   * hidden: [B, T, C] -> [B, T, C]. With `context.cache`, the new keys and values are appended to
   * it and the queries attend the cached tokens too.
   */
  forward(hidden: tf.Tensor, context: AttentionContext): tf.Tensor {
    return tf.tidy(() => {
      const [batch, length] = hidden.shape;
      const q = applyRotary(this.splitHeads(this.qProj.forward(hidden), this.numHeads), context.cos, context.sin);
      let k = applyRotary(this.splitHeads(this.kProj.forward(hidden), this.numKeyValueHeads), context.cos, context.sin); // [B, K, T, D]
      let v = this.splitHeads(this.vProj.forward(hidden), this.numKeyValueHeads);
      if (context.cache !== undefined) ({ keys: k, values: v } = context.cache.update(k, v)); // [B, K, S, D]
      const attended = groupedQueryAttention(q, k, v, context.bias); // [B, H, T, D]
      const merged = tf.transpose(attended, [0, 2, 1, 3]).reshape([batch, length, this.numHeads * this.headDim]); // [B, T, H·D]
      return this.oProj.forward(merged);
    });
  }

  /** [B, T, N·D] -> [B, N, T, D] for N heads. */
  private splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
    const [batch, length] = x.shape;
    return tf.transpose(x.reshape([batch, length, heads, this.headDim]), [0, 2, 1, 3]);
  }
}
