import * as tf from "@tensorflow/tfjs";
import { LayerNorm, Linear, Module, getActivation, linear, randomNormalTensor } from "@mm/core";
import { scaledDotProductAttention } from "./attention";
import { FeedForward } from "./encoder-layer";
import type { VisionConfig } from "./vision-config";

// Shape letters: B batch, N patches per image, C hidden size.

/**
 * PyTorch `nn.MultiheadAttention` weights: `in_proj_weight` [3C, C] and `in_proj_bias` [3C] contain
 * the query, key and value projections stacked in that order, then `out_proj` [C, C].
 */
class StackedProjectionAttention extends Module {
  readonly in_proj_weight: tf.Variable;
  readonly in_proj_bias: tf.Variable;
  readonly out_proj: Linear;

  constructor(
    private readonly hiddenSize: number,
    private readonly numHeads: number,
  ) {
    super();
    this.in_proj_weight = this.addParameter("in_proj_weight", randomNormalTensor([3 * hiddenSize, hiddenSize], 0.02));
    this.in_proj_bias = this.addParameter("in_proj_bias", tf.zeros([3 * hiddenSize]));
    this.out_proj = this.addModule("out_proj", new Linear(hiddenSize, hiddenSize));
  }

  /**
   * Returns projections `indices` (0 query, 1 key, 2 value) of x: [B, T, C] -> [B, T, C] each.
   * All three are computed and the output is sliced, because slicing the weight would give core's
   * linear a temporary weight, which a frozen model's backward pass still reads after disposal.
   */
  private project(x: tf.Tensor, indices: number[]): tf.Tensor[] {
    const [batch, length] = x.shape;
    const size = this.hiddenSize;
    const stacked = linear(x, this.in_proj_weight, this.in_proj_bias); // [B, T, 3C]
    return indices.map((index) => stacked.slice([0, 0, index * size], [batch, length, size]));
  }

  /** query: [B, T, C]; keyValue: [B, S, C] -> [B, T, C]. */
  forward(query: tf.Tensor, keyValue: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [projectedQuery] = this.project(query, [0]);
      const [key, value] = this.project(keyValue, [1, 2]);
      return this.out_proj.forward(scaledDotProductAttention(projectedQuery, key, value, this.numHeads));
    });
  }
}

/**
 * SigLIP's attention-pooling head (`SiglipMultiheadAttentionPoolingHead`): a learned probe
 * attends over the patch rows, then a residual feed-forward block follows. Weight names `probe`
 * [1, 1, C], `attention.*`, `layernorm.*`, `mlp.fc1.*`, `mlp.fc2.*`.
 */
export class SiglipPoolingHead extends Module {
  readonly probe: tf.Variable;
  readonly attention: StackedProjectionAttention;
  readonly layernorm: LayerNorm;
  readonly mlp: FeedForward;

  constructor(config: VisionConfig) {
    super();
    const hidden = config.hidden_size;
    this.probe = this.addParameter("probe", randomNormalTensor([1, 1, hidden], 0.02));
    this.attention = this.addModule("attention", new StackedProjectionAttention(hidden, config.num_attention_heads));
    this.layernorm = this.addModule("layernorm", new LayerNorm(hidden, config.layer_norm_eps));
    const activation = getActivation(config.hidden_act, "hidden_act");
    this.mlp = this.addModule("mlp", new FeedForward(hidden, config.intermediate_size, activation));
  }

  /** hiddenStates: [B, N, C] -> [B, C]. */
  forward(hiddenStates: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const batch = hiddenStates.shape[0];
      const probes = tf.tile(this.probe, [batch, 1, 1]); // [B, 1, C]
      const residual = this.attention.forward(probes, hiddenStates); // [B, 1, C]
      const h = tf.add(residual, this.mlp.forward(this.layernorm.forward(residual)));
      return h.reshape([batch, -1]); // [B, C]
    });
  }
}
