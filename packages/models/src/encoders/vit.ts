import * as tf from "@tensorflow/tfjs";
import { LayerNorm, Linear, Module, ModuleList, getActivation, randomNormalTensor, type Activation, type EncoderOutput } from "@mm/core";
import { ConfigReader } from "../pretrained/config-fields";
import { scaledDotProductAttention } from "./attention";
import { PatchConv } from "./patch-conv";
import { countPatches, readVisionConfig, type VisionConfig } from "./vision-config";
import { VisionEncoderModel } from "./vision-encoder-model";

// Shape letters: B batch, N patches per image, C hidden size, I intermediate size.

/** transformers' ViTConfig defaults (google/vit-base-patch16-224). */
const VIT_DEFAULTS: VisionConfig = {
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 224,
  patch_size: 16,
  hidden_act: "gelu",
  layer_norm_eps: 1e-12,
};

/** ViT's fields beyond the shared vision ones. */
export interface ViTExtraConfig {
  /** Whether query, key and value have biases. */
  qkv_bias: boolean;
  /** Output size of the pooler's dense layer; transformers 4.40 configs lack it and use the hidden size. */
  pooler_output_size: number;
  /** Activation of the pooler; transformers 4.40 configs lack it and use tanh. */
  pooler_act: string;
}

function readViTExtraConfig(reader: ConfigReader, vision: VisionConfig): ViTExtraConfig {
  return {
    qkv_bias: reader.boolean("qkv_bias", true),
    pooler_output_size: reader.integer("pooler_output_size", vision.hidden_size),
    pooler_act: reader.string("pooler_act", "tanh"),
  };
}

/** `ViTPatchEmbeddings`: the patch convolution, with bias, under the name `projection`. */
class ViTPatchEmbeddings extends Module {
  readonly projection: PatchConv;

  constructor(config: VisionConfig) {
    super();
    this.projection = this.addModule("projection", new PatchConv(config.num_channels, config.hidden_size, config.patch_size, { bias: true }));
  }
}

/** Class token, patch convolution and learned positions (`ViTEmbeddings`). */
class ViTEmbeddings extends Module {
  readonly cls_token: tf.Variable;
  readonly patch_embeddings: ViTPatchEmbeddings;
  readonly position_embeddings: tf.Variable;

  constructor(config: VisionConfig) {
    super();
    const hidden = config.hidden_size;
    this.cls_token = this.addParameter("cls_token", randomNormalTensor([1, 1, hidden], 0.02));
    this.patch_embeddings = this.addModule("patch_embeddings", new ViTPatchEmbeddings(config));
    this.position_embeddings = this.addParameter("position_embeddings", randomNormalTensor([1, countPatches(config) + 1, hidden], 0.02));
  }

  /** pixelValues: [B, 3, H, W] -> [B, N + 1, C], the class token first. */
  forward(pixelValues: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const batch = pixelValues.shape[0];
      const patches = this.patch_embeddings.projection.forward(pixelValues); // [B, N, C]
      const tokens = tf.concat([tf.tile(this.cls_token, [batch, 1, 1]), patches], 1); // [B, N + 1, C]
      return tf.add(tokens, this.position_embeddings);
    });
  }
}

/** `ViTSelfAttention`: projections named `query`, `key` and `value`. */
class ViTSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;

  constructor(
    hiddenSize: number,
    private readonly numHeads: number,
    bias: boolean,
  ) {
    super();
    this.query = this.addModule("query", new Linear(hiddenSize, hiddenSize, { bias }));
    this.key = this.addModule("key", new Linear(hiddenSize, hiddenSize, { bias }));
    this.value = this.addModule("value", new Linear(hiddenSize, hiddenSize, { bias }));
  }

  /** x: [B, T, C] -> [B, T, C]. */
  forward(x: tf.Tensor): tf.Tensor {
    return scaledDotProductAttention(this.query.forward(x), this.key.forward(x), this.value.forward(x), this.numHeads);
  }
}

/** A module holding one Linear named `dense`, as ViT's output, intermediate and pooler blocks do. */
class DenseBlock extends Module {
  readonly dense: Linear;

  constructor(inFeatures: number, outFeatures: number) {
    super();
    this.dense = this.addModule("dense", new Linear(inFeatures, outFeatures));
  }
}

/** `ViTAttention`: self-attention then its output projection `output.dense`. */
class ViTAttention extends Module {
  readonly attention: ViTSelfAttention;
  readonly output: DenseBlock;

  constructor(config: VisionConfig, qkvBias: boolean) {
    super();
    this.attention = this.addModule("attention", new ViTSelfAttention(config.hidden_size, config.num_attention_heads, qkvBias));
    this.output = this.addModule("output", new DenseBlock(config.hidden_size, config.hidden_size));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.output.dense.forward(this.attention.forward(x));
  }
}

/** Pre-norm layer with ViT's names: `layernorm_before`, `attention.*`, `layernorm_after`, `intermediate.dense`, `output.dense`. */
class ViTLayer extends Module {
  readonly attention: ViTAttention;
  readonly intermediate: DenseBlock;
  readonly output: DenseBlock;
  readonly layernorm_before: LayerNorm;
  readonly layernorm_after: LayerNorm;
  private readonly activation: Activation;

  constructor(config: VisionConfig, qkvBias: boolean) {
    super();
    const { hidden_size: hidden, layer_norm_eps: eps } = config;
    this.attention = this.addModule("attention", new ViTAttention(config, qkvBias));
    this.intermediate = this.addModule("intermediate", new DenseBlock(hidden, config.intermediate_size));
    this.output = this.addModule("output", new DenseBlock(config.intermediate_size, hidden));
    this.layernorm_before = this.addModule("layernorm_before", new LayerNorm(hidden, eps));
    this.layernorm_after = this.addModule("layernorm_after", new LayerNorm(hidden, eps));
    this.activation = getActivation(config.hidden_act, "hidden_act");
  }

  /** hiddenStates: [B, T, C] -> [B, T, C]. */
  forward(hiddenStates: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let residual = hiddenStates;
      let h = this.layernorm_before.forward(hiddenStates);
      h = this.attention.forward(h);
      h = tf.add(residual, h);

      residual = h;
      h = this.layernorm_after.forward(h);
      h = this.activation(this.intermediate.dense.forward(h)); // [B, T, I]
      h = this.output.dense.forward(h);
      return tf.add(residual, h);
    });
  }
}

/** The `encoder.layer.N` stack. */
class ViTEncoder extends Module {
  readonly layer: ModuleList<ViTLayer>;

  constructor(config: VisionConfig, qkvBias: boolean) {
    super();
    this.layer = this.addModule("layer", new ModuleList(Array.from({ length: config.num_hidden_layers }, () => new ViTLayer(config, qkvBias))));
  }

  /**
   * Call inside tf.tidy, which disposes the intermediate layer outputs.
   * inputsEmbeds: [B, T, C] -> [B, T, C]; `hiddenStates` receives the input then each layer's output.
   */
  forward(inputsEmbeds: tf.Tensor, hiddenStates?: tf.Tensor[]): tf.Tensor {
    let h = inputsEmbeds;
    for (const layer of this.layer) {
      hiddenStates?.push(h);
      h = layer.forward(h);
    }
    hiddenStates?.push(h);
    return h;
  }
}

/**
 * transformers' `ViTModel` with its weight names, which have no prefix (`embeddings.cls_token`,
 * `encoder.layer.0.attention.attention.query.weight`, `layernorm.weight`, `pooler.dense.weight`).
 * last_hidden_state is after the final `layernorm`, hidden_states starts with the embeddings, and
 * pooler_output is the pooler's dense layer and activation applied to the class token.
 */
export class ViTModel extends VisionEncoderModel {
  readonly modelType = "vit";
  protected readonly architecture = "ViTModel";
  protected readonly hasClassToken = true;
  readonly embeddings: ViTEmbeddings;
  readonly encoder: ViTEncoder;
  readonly layernorm: LayerNorm;
  readonly pooler: DenseBlock | undefined;
  private readonly poolerActivation: Activation;

  constructor(
    config: VisionConfig,
    readonly vitConfig: ViTExtraConfig,
    extraFields: Record<string, unknown> = {},
    { addPoolingLayer = true }: { addPoolingLayer?: boolean } = {},
  ) {
    super(config, extraFields);
    this.embeddings = this.addModule("embeddings", new ViTEmbeddings(config));
    this.encoder = this.addModule("encoder", new ViTEncoder(config, vitConfig.qkv_bias));
    this.layernorm = this.addModule("layernorm", new LayerNorm(config.hidden_size, config.layer_norm_eps));
    this.pooler = addPoolingLayer ? this.addModule("pooler", new DenseBlock(config.hidden_size, vitConfig.pooler_output_size)) : undefined;
    this.poolerActivation = getActivation(vitConfig.pooler_act, "pooler_act");
  }

  /**
   * Builds the model with random weights from a `vit` config.json.
   * NOTE: checkpoints of the task heads (ViTForImageClassification, ...) name the backbone
   * `vit.*` and usually have no pooler, so they do not load into this class.
   */
  static fromConfig(config: Record<string, unknown>, source = "config.json"): ViTModel {
    const reader = new ConfigReader(config, source);
    const vision = readVisionConfig(reader, VIT_DEFAULTS);
    return new ViTModel(vision, readViTExtraConfig(reader, vision), config);
  }

  protected encode(pixelValues: tf.Tensor, outputHiddenStates: boolean): EncoderOutput {
    const hiddenStates: tf.Tensor[] | undefined = outputHiddenStates ? [] : undefined;
    const embeddings = this.embeddings.forward(pixelValues); // [B, N + 1, C]
    const lastHiddenState = this.layernorm.forward(this.encoder.forward(embeddings, hiddenStates));
    return { last_hidden_state: lastHiddenState, pooler_output: this.pool(lastHiddenState), hidden_states: hiddenStates };
  }

  /** lastHiddenState: [B, N + 1, C] -> [B, pooler_output_size], or undefined without a pooler. */
  private pool(lastHiddenState: tf.Tensor): tf.Tensor | undefined {
    if (this.pooler === undefined) return undefined;
    const batch = lastHiddenState.shape[0];
    const classRows = lastHiddenState.slice([0, 0, 0], [batch, 1, -1]).reshape([batch, -1]); // [B, C]
    return this.poolerActivation(this.pooler.dense.forward(classRows));
  }

  override toConfigJson(): Record<string, unknown> {
    return { ...super.toConfigJson(), qkv_bias: this.vitConfig.qkv_bias };
  }
}
