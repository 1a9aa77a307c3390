import * as tf from "@tensorflow/tfjs";
import { Embedding, LayerNorm, Module, randomNormalTensor, type EncoderOutput } from "@mm/core";
import { PreNormEncoder } from "./encoder-layer";
import { PatchConv } from "./patch-conv";
import { countPatches, readVisionConfig, visionSection, type VisionConfig } from "./vision-config";
import { VisionEncoderModel } from "./vision-encoder-model";

// Shape letters: B batch, N patches per image, C hidden size.

/** transformers' CLIPVisionConfig defaults (openai/clip-vit-base-patch32). */
const CLIP_VISION_DEFAULTS: VisionConfig = {
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 224,
  patch_size: 32,
  hidden_act: "quick_gelu",
  layer_norm_eps: 1e-5,
};

/** Class token, bias-free patch convolution and learned positions (`CLIPVisionEmbeddings`). */
class ClipVisionEmbeddings extends Module {
  readonly class_embedding: tf.Variable;
  readonly patch_embedding: PatchConv;
  readonly position_embedding: Embedding;

  constructor(private readonly config: VisionConfig) {
    super();
    const hidden = config.hidden_size;
    this.class_embedding = this.addParameter("class_embedding", randomNormalTensor([hidden], 0.02));
    this.patch_embedding = this.addModule("patch_embedding", new PatchConv(config.num_channels, hidden, config.patch_size, { bias: false }));
    this.position_embedding = this.addModule("position_embedding", new Embedding(countPatches(config) + 1, hidden));
  }

  /** pixelValues: [B, 3, H, W] -> [B, N + 1, C], the class token first. */
  forward(pixelValues: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const batch = pixelValues.shape[0];
      const patches = this.patch_embedding.forward(pixelValues); // [B, N, C]
      const classToken = this.class_embedding.reshape([1, 1, this.config.hidden_size]);
      const tokens = tf.concat([tf.tile(classToken, [batch, 1, 1]), patches], 1); // [B, N + 1, C]
      return tf.add(tokens, this.position_embedding.weight);
    });
  }
}

/** The `vision_model` part of CLIPVisionModel (`CLIPVisionTransformer`). */
class ClipVisionTransformer extends Module {
  readonly embeddings: ClipVisionEmbeddings;
  readonly pre_layrnorm: LayerNorm;
  readonly encoder: PreNormEncoder;
  readonly post_layernorm: LayerNorm;

  constructor(config: VisionConfig) {
    super();
    this.embeddings = this.addModule("embeddings", new ClipVisionEmbeddings(config));
    this.pre_layrnorm = this.addModule("pre_layrnorm", new LayerNorm(config.hidden_size, config.layer_norm_eps));
    this.encoder = this.addModule("encoder", new PreNormEncoder(config));
    this.post_layernorm = this.addModule("post_layernorm", new LayerNorm(config.hidden_size, config.layer_norm_eps));
  }

  /** Call inside tf.tidy. pixelValues: [B, 3, H, W]. */
  forward(pixelValues: tf.Tensor, outputHiddenStates: boolean): EncoderOutput {
    const hiddenStates: tf.Tensor[] | undefined = outputHiddenStates ? [] : undefined;
    const embeddings = this.pre_layrnorm.forward(this.embeddings.forward(pixelValues)); // [B, N + 1, C]
    const lastHiddenState = this.encoder.forward(embeddings, hiddenStates);

    const batch = lastHiddenState.shape[0];
    const classRows = lastHiddenState.slice([0, 0, 0], [batch, 1, -1]).reshape([batch, -1]); // [B, C]
    const pooled = this.post_layernorm.forward(classRows);
    return { last_hidden_state: lastHiddenState, pooler_output: pooled, hidden_states: hiddenStates };
  }
}

/**
 * CLIP's vision tower (transformers' `CLIPVisionModel`), with Hugging Face's weight names
 * (`vision_model.embeddings.class_embedding`, `vision_model.pre_layrnorm.weight`,
 * `vision_model.encoder.layers.0.self_attn.q_proj.weight`, ...).
 *
 * Built from a `clip_vision_model` config or from a full two-tower `clip` config, whose
 * `vision_config` it reads. Loading then skips the text tower, `logit_scale` and both projections.
 * last_hidden_state is the encoder output without post_layernorm, pooler_output is post_layernorm
 * of the class token, and hidden_states starts with the pre_layrnorm output, as in transformers.
 *
 * @example
 * const clip = loadPretrained<CLIPVisionModel>("models/clip-vit-base-patch32");
 * const { last_hidden_state } = clip.forward({ pixel_values }); // [B, 50, 768]
 */
export class CLIPVisionModel extends VisionEncoderModel {
  readonly modelType = "clip_vision_model";
  protected readonly architecture = "CLIPVisionModel";
  protected readonly hasClassToken = true;
  readonly vision_model: ClipVisionTransformer;

  constructor(config: VisionConfig, extraFields: Record<string, unknown> = {}) {
    super(config, extraFields);
    this.vision_model = this.addModule("vision_model", new ClipVisionTransformer(config));
  }

  /** Builds the model with random weights from a `clip_vision_model` or `clip` config.json. */
  static fromConfig(config: Record<string, unknown>, source = "config.json"): CLIPVisionModel {
    const reader = visionSection(config, source, "clip");
    return new CLIPVisionModel(readVisionConfig(reader, CLIP_VISION_DEFAULTS), reader.config);
  }

  protected encode(pixelValues: tf.Tensor, outputHiddenStates: boolean): EncoderOutput {
    return this.vision_model.forward(pixelValues, outputHiddenStates);
  }

  /** Matches the text tower, `logit_scale`, the projections and the `position_ids` buffer of older checkpoints. */
  ignoredCheckpointNames(): RegExp[] {
    return [/^text_model\./, /^logit_scale$/, /^visual_projection\./, /^text_projection\./, /^vision_model\.embeddings\.position_ids$/];
  }
}
