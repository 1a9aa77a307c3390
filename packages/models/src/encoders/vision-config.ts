import { ConfigError } from "@mm/core";
import { ConfigReader } from "../pretrained/config-fields";

/** The `config.json` fields that CLIP, SigLIP and ViT vision encoders share, spelled as in transformers. */
export interface VisionConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_channels: number;
  image_size: number;
  patch_size: number;
  hidden_act: string;
  layer_norm_eps: number;
}

/**
 * Reads the shared vision fields, taking each absent one from `defaults` (the family's
 * transformers config class defaults), and checks that the image splits into whole patches and
 * the hidden size into whole heads.
 */
export function readVisionConfig(reader: ConfigReader, defaults: VisionConfig): VisionConfig {
  const config: VisionConfig = {
    hidden_size: reader.integer("hidden_size", defaults.hidden_size),
    intermediate_size: reader.integer("intermediate_size", defaults.intermediate_size),
    num_hidden_layers: reader.integer("num_hidden_layers", defaults.num_hidden_layers),
    num_attention_heads: reader.integer("num_attention_heads", defaults.num_attention_heads),
    num_channels: reader.integer("num_channels", defaults.num_channels),
    image_size: reader.integer("image_size", defaults.image_size),
    patch_size: reader.integer("patch_size", defaults.patch_size),
    hidden_act: reader.string("hidden_act", defaults.hidden_act),
    layer_norm_eps: reader.number("layer_norm_eps", defaults.layer_norm_eps),
  };
  if (config.image_size % config.patch_size !== 0) {
    const message = `${reader.source}: image_size ${config.image_size} is not a multiple of patch_size ${config.patch_size}`;
    throw new ConfigError(message, "image_size", reader.source);
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    const message = `${reader.source}: hidden_size ${config.hidden_size} is not divisible by num_attention_heads ${config.num_attention_heads}`;
    throw new ConfigError(message, "num_attention_heads", reader.source);
  }
  return config;
}

/**
 * Returns a reader of the vision part of a `config.json`: the file itself, or its `vision_config`
 * object when `model_type` is the two-tower type (`"clip"`, `"siglip"`).
 */
export function visionSection(config: Record<string, unknown>, source: string, twoTowerType: string): ConfigReader {
  if (config.model_type !== twoTowerType) return new ConfigReader(config, source);
  const outer = new ConfigReader(config, source);
  return new ConfigReader(outer.object("vision_config"), `${source} (vision_config)`);
}

/** Patches per image: (image_size / patch_size)². */
export function countPatches(config: VisionConfig): number {
  return (config.image_size / config.patch_size) ** 2;
}
