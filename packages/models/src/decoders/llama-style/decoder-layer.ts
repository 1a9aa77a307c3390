// Shape letters: B batch, T sequence, C hidden, I intermediate size.
import * as tf from "@tensorflow/tfjs";
import { Linear, Module, RMSNorm, getActivation, type Activation } from "@mm/core";
import { DecoderAttention, type AttentionContext } from "./attention";
import type { DecoderSettings } from "./decoder-settings";

/** Gated feed-forward block: down_proj(act(gate_proj(x)) · up_proj(x)) (LlamaMLP). */
export class GatedMlp extends Module {
  readonly gateProj: Linear;
  readonly upProj: Linear;
  readonly downProj: Linear;
  private readonly activation: Activation;

  constructor(settings: DecoderSettings, source: string) {
    super();
    const { hiddenSize, intermediateSize, mlpBias: bias, initializerRange: initStd } = settings;
    this.gateProj = this.addModule("gate_proj", new Linear(hiddenSize, intermediateSize, { bias, initStd }));
    this.upProj = this.addModule("up_proj", new Linear(hiddenSize, intermediateSize, { bias, initStd }));
    this.downProj = this.addModule("down_proj", new Linear(intermediateSize, hiddenSize, { bias, initStd }));
    this.activation = getActivation(settings.hiddenAct, `${source} hidden_act`);
  }

  /** x: [B, T, C] -> [B, T, C] through [B, T, I]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const gated = tf.mul(this.activation(this.gateProj.forward(x)), this.upProj.forward(x)); // [B, T, I]
      return this.downProj.forward(gated);
    });
  }
}

/** One pre-norm transformer block: self-attention then the gated MLP, each with a residual. */
export class DecoderLayer extends Module {
  readonly selfAttn: DecoderAttention;
  readonly mlp: GatedMlp;
  readonly inputLayernorm: RMSNorm;
  readonly postAttentionLayernorm: RMSNorm;

  constructor(settings: DecoderSettings, source: string) {
    super();
    const { hiddenSize, rmsNormEps, normUnitOffset } = settings;
    this.selfAttn = this.addModule("self_attn", new DecoderAttention(settings));
    this.mlp = this.addModule("mlp", new GatedMlp(settings, source));
    this.inputLayernorm = this.addModule("input_layernorm", new RMSNorm(hiddenSize, rmsNormEps, normUnitOffset));
    this.postAttentionLayernorm = this.addModule("post_attention_layernorm", new RMSNorm(hiddenSize, rmsNormEps, normUnitOffset));
  }

  /** hidden: [B, T, C] -> [B, T, C]. */
  forward(hidden: tf.Tensor, context: AttentionContext): tf.Tensor {
    return tf.tidy(() => {
      let residual = hidden;
      let h = this.inputLayernorm.forward(hidden);
      h = this.selfAttn.forward(h, context);
      h = tf.add(residual, h);

      residual = h;
      h = this.postAttentionLayernorm.forward(h);
      h = this.mlp.forward(h);
      return tf.add(residual, h);
    });
  }
}
