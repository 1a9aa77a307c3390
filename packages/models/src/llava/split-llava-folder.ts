import { join } from "node:path";
import { ShapeError } from "@mm/core";
import { readJsonFile, weightFiles, writeJsonFile } from "../pretrained/load-save";
import { readLlavaSettings, type LlavaSettings } from "./llava-config";
import { splitLlavaCheckpoint, type LlavaPart } from "./llava-weights";
import { readStoredTensors, writeStoredTensors, type StoredTensor } from "./stored-tensors";

/** A folder for each part of a LLaVA model, each with config.json and model.safetensors. */
export type LlavaModuleFolders = Record<LlavaPart, string>;

/**
 * Splits a Hugging Face LLaVA folder (config.json with model_type "llava", model.safetensors or
 * its shards, in either layout that splitLlavaCheckpoint reads) into one Hugging Face folder per
 * part, as `loadPretrained` and `MultimodalProjector.fromConfigJson` read them:
 *
 * - `visionTower`: `vision_config` as config.json, the tower's tensors (`vision_model.*`);
 * - `projector`: an "mlp" projector config (`in_features`, `out_features`, `activation` from
 *   `projector_hidden_act`, `bias` from `multimodal_projector_bias`), `projection.in_proj.*` and
 *   `projection.out_proj.*`;
 * - `languageModel`: `text_config` as config.json, `model.*` and `lm_head.*`.
 *
 * Tensor bytes are copied unchanged, in their stored dtype, a chunk at a time. Returns the
 * validated LLaVA settings, whose image token id and feature selection the folders do not record.
 *
 * NOTE: the parts are not loaded here, so tensors whose shapes do not fit the config are found
 * only when a folder is loaded.
 *
 * @throws ConfigError for an invalid LLaVA config.json, ShapeError for tensors outside the three
 *   parts or a projector without `linear_1.weight`, InputError for unreadable files.
 */
export function splitLlavaFolder(source: string, targets: LlavaModuleFolders): LlavaSettings {
  const configPath = join(source, "config.json");
  const settings = readLlavaSettings(readJsonFile(configPath), configPath);
  const parts = splitLlavaCheckpoint(readStoredTensors(weightFiles(source)), source);

  writeModuleFolder(targets.visionTower, settings.visionConfig, parts.visionTower);
  writeModuleFolder(targets.projector, projectorConfig(parts.projector, settings, source), parts.projector);
  writeModuleFolder(targets.languageModel, settings.textConfig, parts.languageModel);
  return settings;
}

function writeModuleFolder(directory: string, config: Record<string, unknown>, tensors: Map<string, StoredTensor>): void {
  writeStoredTensors(join(directory, "model.safetensors"), tensors);
  writeJsonFile(join(directory, "config.json"), config);
}

/** Returns the MultimodalProjector config.json that matches transformers' LlavaMultiModalProjector. */
function projectorConfig(tensors: Map<string, StoredTensor>, settings: LlavaSettings, source: string): Record<string, unknown> {
  const inProjection = tensors.get("projection.in_proj.weight");
  if (inProjection === undefined || inProjection.shape.length !== 2) {
    throw new ShapeError(`cannot split ${source}: multi_modal_projector.linear_1.weight is missing or not a matrix; a LLaVA projector has linear_1 and linear_2`);
  }
  // PyTorch stores a Linear weight as [out_features, in_features].
  const [outFeatures, inFeatures] = inProjection.shape;
  return { in_features: inFeatures, out_features: outFeatures, projection_type: "mlp", activation: settings.projectorHiddenAct, bias: settings.projectorBias };
}
