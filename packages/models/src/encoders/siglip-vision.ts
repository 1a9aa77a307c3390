import * as tf from "@tensorflow/tfjs";
import { Embedding, LayerNorm, Module, type EncoderOutput } from "@mm/core";
import { PreNormEncoder } from "./encoder-layer";
import { PatchConv } from "./patch-conv";
import { SiglipPoolingHead } from "./siglip-pooling-head";
import { countPatches, readVisionConfig, visionSection, type VisionConfig } from "./vision-config";
import { VisionEncoderModel } from "./vision-encoder-model";

// Shape letters: B batch, N patches per image, C hidden size.

/** transformers' SiglipVisionConfig defaults. */
const SIGLIP_VISION_DEFAULTS: VisionConfig = {
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 224,
  patch_size: 16,
  hidden_act: "gelu_pytorch_tanh",
  layer_norm_eps: 1e-6,
};

/** Patch convolution with bias plus learned positions, no class token (`SiglipVisionEmbeddings`). */
class SiglipVisionEmbeddings extends Module {
  readonly patch_embedding: PatchConv;
  readonly position_embedding: Embedding;

  constructor(config: VisionConfig) {
    super();
    const hidden = config.hidden_size;
    this.patch_embedding = this.addModule("patch_embedding", new PatchConv(config.num_channels, hidden, config.patch_size, { bias: true }));
    this.position_embedding = this.addModule("position_embedding", new Embedding(countPatches(config), hidden));
  }

  /** pixelValues: [B, 3, H, W] -> [B, N, C]. */
  forward(pixelValues: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.add(this.patch_embedding.forward(pixelValues), this.position_embedding.weight));
  }
}

/** The `vision_model` part of SiglipVisionModel (`SiglipVisionTransformer`). */
class SiglipVisionTransformer extends Module {
  readonly embeddings: SiglipVisionEmbeddings;
  readonly encoder: PreNormEncoder;
  readonly post_layernorm: LayerNorm;
  readonly head: SiglipPoolingHead | undefined;

  constructor(config: VisionConfig, useHead: boolean) {
    super();
    this.embeddings = this.addModule("embeddings", new SiglipVisionEmbeddings(config));
    this.encoder = this.addModule("encoder", new PreNormEncoder(config));
    this.post_layernorm = this.addModule("post_layernorm", new LayerNorm(config.hidden_size, config.layer_norm_eps));
    this.head = useHead ? this.addModule("head", new SiglipPoolingHead(config)) : undefined;
  }

  /** Call inside tf.tidy. pixelValues: [B, 3, H, W]. */
  forward(pixelValues: tf.Tensor, outputHiddenStates: boolean): EncoderOutput {
    const hiddenStates: tf.Tensor[] | undefined = outputHiddenStates ? [] : undefined;
    const embeddings = this.embeddings.forward(pixelValues); // [B, N, C]
    const lastHiddenState = this.post_layernorm.forward(this.encoder.forward(embeddings, hiddenStates));
    const pooled = this.head?.forward(lastHiddenState);
    return { last_hidden_state: lastHiddenState, pooler_output: pooled, hidden_states: hiddenStates };
  }
}

/**
 * SigLIP's vision tower (transformers' `SiglipVisionModel`), with Hugging Face's weight names
 * (`vision_model.embeddings.patch_embedding.weight`, `vision_model.head.probe`, ...).
 *
 * Built from a `siglip_vision_model` config or from a full two-tower `siglip` config, whose
 * `vision_config` it reads; loading then skips the text tower, `logit_scale` and `logit_bias`.
 * last_hidden_state is after post_layernorm, hidden_states starts with the embeddings, and
 * pooler_output comes from the attention-pooling head, which `vision_use_head: false` leaves out.
 */
export class SiglipVisionModel extends VisionEncoderModel {
  readonly modelType = "siglip_vision_model";
  protected readonly architecture = "SiglipVisionModel";
  protected readonly hasClassToken = false;
  readonly vision_model: SiglipVisionTransformer;

  constructor(config: VisionConfig, extraFields: Record<string, unknown> = {}, { useHead = true }: { useHead?: boolean } = {}) {
    super(config, extraFields);
    this.vision_model = this.addModule("vision_model", new SiglipVisionTransformer(config, useHead));
  }

  /** Builds the model with random weights from a `siglip_vision_model` or `siglip` config.json. */
  static fromConfig(config: Record<string, unknown>, source = "config.json"): SiglipVisionModel {
    const reader = visionSection(config, source, "siglip");
    const useHead = reader.boolean("vision_use_head", true);
    return new SiglipVisionModel(readVisionConfig(reader, SIGLIP_VISION_DEFAULTS), reader.config, { useHead });
  }

  protected encode(pixelValues: tf.Tensor, outputHiddenStates: boolean): EncoderOutput {
    return this.vision_model.forward(pixelValues, outputHiddenStates);
  }

  /** Matches the text tower, `logit_scale` and `logit_bias` of a two-tower checkpoint, and the `position_ids` buffer of older ones. */
  ignoredCheckpointNames(): RegExp[] {
    return [/^text_model\./, /^logit_scale$/, /^logit_bias$/, /^vision_model\.embeddings\.position_ids$/];
  }
}
