import { ConfigError } from "@mm/core";
import { ConfigReader } from "../pretrained/config-fields";

/** The `config.json` keys of a Hugging Face LLaVA checkpoint (transformers' LlavaConfig). */
export interface LlavaConfig {
  model_type: "llava";
  /** The vision tower's config; its `model_type` defaults to "clip_vision_model". */
  vision_config: Record<string, unknown>;
  /** The language model's config; its `model_type` defaults to "llama". */
  text_config: Record<string, unknown>;
  /** The image placeholder id in input_ids (newer files may also spell it `image_token_id`). */
  image_token_index?: number;
  /** Activation between the projector's two layers. */
  projector_hidden_act?: string;
  /** "default" drops the class token row of each image's features, "full" keeps every row. */
  vision_feature_select_strategy?: "default" | "full";
  /** Index into the vision tower's hidden_states (embeddings first); negative counts from the end. */
  vision_feature_layer?: number;
  /** Whether the projector's linear layers have biases (transformers 4.48 and later write it). */
  multimodal_projector_bias?: boolean;
}

export type VisionFeatureSelectStrategy = "default" | "full";

/** A LLaVA config.json after validation, with transformers' LlavaConfig defaults filled in. */
export interface LlavaSettings {
  visionConfig: Record<string, unknown>;
  textConfig: Record<string, unknown>;
  imageTokenIndex: number;
  projectorHiddenAct: string;
  visionFeatureSelectStrategy: VisionFeatureSelectStrategy;
  visionFeatureLayer: number;
  projectorBias: boolean;
}

/** LlavaConfig's defaults in transformers. */
const LLAVA_DEFAULTS = {
  image_token_index: 32000,
  projector_hidden_act: "gelu",
  vision_feature_select_strategy: "default",
  vision_feature_layer: -2,
  multimodal_projector_bias: true,
} as const;

/**
 * Validates a LLaVA `config.json`. `vision_config` and `text_config` must be present (transformers
 * would fall back to CLIP ViT-L/14-336 and Llama 2 7B sizes; no published checkpoint relies on
 * that). Invalid values are a ConfigError naming `source` and the key.
 */
export function readLlavaSettings(config: Record<string, unknown>, source = "config.json"): LlavaSettings {
  const reader = new ConfigReader(config, source);
  if (config.model_type !== "llava") {
    throw new ConfigError(`${source}: model_type is ${JSON.stringify(config.model_type ?? null)} but a LLaVA checkpoint has "llava"`, "model_type", source);
  }
  return {
    visionConfig: sectionWithType(reader, "vision_config", "clip_vision_model"),
    textConfig: sectionWithType(reader, "text_config", "llama"),
    imageTokenIndex: readImageTokenIndex(reader),
    projectorHiddenAct: reader.string("projector_hidden_act", LLAVA_DEFAULTS.projector_hidden_act),
    visionFeatureSelectStrategy: readSelectStrategy(reader),
    visionFeatureLayer: readFeatureLayer(reader),
    projectorBias: reader.boolean("multimodal_projector_bias", LLAVA_DEFAULTS.multimodal_projector_bias),
  };
}

/** Returns the nested config `key`, with `model_type` set to `defaultType` when absent. */
function sectionWithType(reader: ConfigReader, key: string, defaultType: string): Record<string, unknown> {
  if (reader.config[key] === undefined) {
    throw new ConfigError(`${reader.source}: "${key}" is missing; a LLaVA config.json needs vision_config and text_config`, key, reader.source);
  }
  const section = reader.object(key);
  return { ...section, model_type: section.model_type ?? defaultType };
}

function readImageTokenIndex(reader: ConfigReader): number {
  if (reader.config.image_token_index === undefined && reader.config.image_token_id !== undefined) return reader.integer("image_token_id");
  return reader.integer("image_token_index", LLAVA_DEFAULTS.image_token_index);
}

function readSelectStrategy(reader: ConfigReader): VisionFeatureSelectStrategy {
  const strategy = reader.string("vision_feature_select_strategy", LLAVA_DEFAULTS.vision_feature_select_strategy);
  if (strategy !== "default" && strategy !== "full") {
    const message = `${reader.source}: vision_feature_select_strategy must be "default" or "full", got ${JSON.stringify(strategy)}`;
    throw new ConfigError(message, "vision_feature_select_strategy", reader.source);
  }
  return strategy;
}

function readFeatureLayer(reader: ConfigReader): number {
  if (Array.isArray(reader.config.vision_feature_layer)) {
    // NOTE: transformers 4.48+ also accepts a list of layers and concatenates their hidden states
    // along the channels. That needs a projector wider than the encoder, so it is not supported here.
    const message = `${reader.source}: vision_feature_layer is a list (${JSON.stringify(reader.config.vision_feature_layer)}); only one layer index is supported`;
    throw new ConfigError(message, "vision_feature_layer", reader.source);
  }
  return reader.integer("vision_feature_layer", LLAVA_DEFAULTS.vision_feature_layer);
}
