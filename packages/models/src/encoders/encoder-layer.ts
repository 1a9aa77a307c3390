import * as tf from "@tensorflow/tfjs";
import { LayerNorm, Linear, Module, ModuleList, getActivation, type Activation } from "@mm/core";
import { SelfAttention } from "./attention";
import type { VisionConfig } from "./vision-config";

/** Two-layer feed-forward block with weight names `fc1` [I, C] and `fc2` [C, I]. */
export class FeedForward extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(
    hiddenSize: number,
    intermediateSize: number,
    private readonly activation: Activation,
  ) {
    super();
    this.fc1 = this.addModule("fc1", new Linear(hiddenSize, intermediateSize));
    this.fc2 = this.addModule("fc2", new Linear(intermediateSize, hiddenSize));
  }

  /** x: [..., C] -> [..., C]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc2.forward(this.activation(this.fc1.forward(x))));
  }
}

/**
 * Pre-norm transformer layer of CLIP and SigLIP (`CLIPEncoderLayer`, `SiglipEncoderLayer`):
 * weight names `layer_norm1`, `self_attn.*`, `layer_norm2`, `mlp.fc1`, `mlp.fc2`.
 */
export class PreNormEncoderLayer extends Module {
  readonly layer_norm1: LayerNorm;
  readonly self_attn: SelfAttention;
  readonly layer_norm2: LayerNorm;
  readonly mlp: FeedForward;

  constructor(config: VisionConfig) {
    super();
    this.self_attn = this.addModule("self_attn", new SelfAttention(config.hidden_size, config.num_attention_heads));
    this.layer_norm1 = this.addModule("layer_norm1", new LayerNorm(config.hidden_size, config.layer_norm_eps));
    const activation = getActivation(config.hidden_act, "hidden_act");
    this.mlp = this.addModule("mlp", new FeedForward(config.hidden_size, config.intermediate_size, activation));
    this.layer_norm2 = this.addModule("layer_norm2", new LayerNorm(config.hidden_size, config.layer_norm_eps));
  }

  /** hiddenStates: [B, T, C] -> [B, T, C]. */
  forward(hiddenStates: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let residual = hiddenStates;
      let h = this.layer_norm1.forward(hiddenStates);
      h = this.self_attn.forward(h);
      h = tf.add(residual, h);

      residual = h;
      h = this.layer_norm2.forward(h);
      h = this.mlp.forward(h);
      return tf.add(residual, h);
    });
  }
}

/**
 * The `encoder.layers.N` stack of CLIP and SigLIP. Returns the last layer's output and, when
 * requested, the input followed by every layer's output (Hugging Face's `hidden_states`).
 */
export class PreNormEncoder extends Module {
  readonly layers: ModuleList<PreNormEncoderLayer>;

  constructor(config: VisionConfig) {
    super();
    const layers = Array.from({ length: config.num_hidden_layers }, () => new PreNormEncoderLayer(config));
    this.layers = this.addModule("layers", new ModuleList(layers));
  }

  /**
   * Call inside tf.tidy, which disposes the intermediate layer outputs.
   * inputsEmbeds: [B, T, C] -> [B, T, C]; `hiddenStates` receives num_hidden_layers + 1 tensors.
   */
  forward(inputsEmbeds: tf.Tensor, hiddenStates?: tf.Tensor[]): tf.Tensor {
    let h = inputsEmbeds;
    for (const layer of this.layers) {
      hiddenStates?.push(h);
      h = layer.forward(h);
    }
    hiddenStates?.push(h);
    return h;
  }
}
