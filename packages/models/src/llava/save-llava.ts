import { join } from "node:path";
import { ConfigError } from "@mm/core";
import { readJsonFile, weightFiles, writeJsonFile } from "../pretrained/load-save";
import { readLlavaSettings, type LlavaConfig, type VisionFeatureSelectStrategy } from "./llava-config";
import { llavaPartTensorName, type LlavaPart } from "./llava-weights";
import type { LlavaModuleFolders } from "./split-llava-folder";
import { readStoredTensors, writeStoredTensors, type StoredTensor } from "./stored-tensors";

/** The LLaVA settings that the part folders do not record. */
export interface SaveLlavaOptions {
  /** The image placeholder id in input_ids (`image_token_index`). */
  imageTokenIndex: number;
  /** The vision tower's hidden_states entry the features come from (embeddings first; negative counts from the end). */
  visionFeatureLayer: number;
  /** "default" drops the class token row of each image's features, "full" keeps every row. */
  visionFeatureSelectStrategy: VisionFeatureSelectStrategy;
}

const PARTS: readonly LlavaPart[] = ["visionTower", "projector", "languageModel"];

/**
 * Writes the folders of a LLaVA model's parts (as splitLlavaFolder or `mm train` writes them:
 * each config.json and model.safetensors or shards) as one Hugging Face LLaVA folder that
 * transformers' LlavaForConditionalGeneration and `loadLlava` read. config.json gets the tower's
 * config as `vision_config`, the language model's as `text_config`, the projector's activation and
 * bias, and `options`. model.safetensors gets every tensor under its name in the layout of
 * transformers before 4.52 (`vision_tower.*`, `multi_modal_projector.linear_1.*` and `linear_2.*`,
 * `language_model.*`), with its bytes copied unchanged, in the stored dtype.
 *
 * @throws ConfigError when the projector is not an "mlp" projector (LLaVA's is linear_1,
 *   activation, linear_2) or the settings are invalid; InputError for unreadable files.
 */
export function saveLlava(sources: LlavaModuleFolders, directory: string, options: SaveLlavaOptions): void {
  const projectorPath = join(sources.projector, "config.json");
  const projector = readJsonFile(projectorPath);
  if (projector.projection_type !== "mlp") {
    const message = `${projectorPath}: projection_type is ${JSON.stringify(projector.projection_type)}, but LLaVA's projector is "mlp" (linear_1, activation, linear_2); only an "mlp" projector can be written as LLaVA`;
    throw new ConfigError(message, "projection_type", projectorPath);
  }
  const config: LlavaConfig & { architectures: string[] } = {
    architectures: ["LlavaForConditionalGeneration"],
    model_type: "llava",
    vision_config: readJsonFile(join(sources.visionTower, "config.json")),
    text_config: readJsonFile(join(sources.languageModel, "config.json")),
    image_token_index: options.imageTokenIndex,
    projector_hidden_act: String(projector.activation ?? "gelu"),
    multimodal_projector_bias: projector.bias === undefined ? true : Boolean(projector.bias),
    vision_feature_layer: options.visionFeatureLayer,
    vision_feature_select_strategy: options.visionFeatureSelectStrategy,
  };
  const configPath = join(directory, "config.json");
  readLlavaSettings(config as unknown as Record<string, unknown>, configPath);

  const tensors = new Map<string, StoredTensor>();
  for (const part of PARTS) {
    for (const [name, tensor] of readStoredTensors(weightFiles(sources[part]))) tensors.set(llavaPartTensorName(part, name), tensor);
  }
  writeStoredTensors(join(directory, "model.safetensors"), tensors);
  writeJsonFile(configPath, config);
}
