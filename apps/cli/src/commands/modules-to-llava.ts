import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, InputError } from "@mm/core";
import { readJsonFile, saveLlava, type SaveLlavaOptions } from "@mm/models";
import { MODULE_FOLDERS } from "@mm/trainer";
import { llavaModuleFolders } from "./llava-to-modules";
import { copyExistingFiles, TOKENIZER_FILES } from "./model-files";

type FeatureSelection = Pick<SaveLlavaOptions, "visionFeatureLayer" | "visionFeatureSelectStrategy">;

/**
 * Writes a folder in the layout of mm train (one vision encoder, an "mlp" projector, the language
 * model, mm_config.json) as a Hugging Face LLaVA folder, with the tokenizer files and
 * preprocessor_config.json when the folder has them.
 */
export function convertModulesToLlava(source: string, output: string, write: (line: string) => void): void {
  checkModuleLayout(source);
  const metadataPath = join(source, "mm_config.json");
  const metadata = readJsonFile(metadataPath);
  const imageTokenIndex = (metadata.modality_token_ids as Record<string, unknown> | undefined)?.vision;
  if (typeof imageTokenIndex !== "number" || !Number.isInteger(imageTokenIndex)) {
    throw new InputError(`${metadataPath}: modality_token_ids.vision is ${JSON.stringify(imageTokenIndex ?? null)}; LLaVA needs the integer id of the image token`, metadataPath);
  }
  const folders = llavaModuleFolders(source);
  const features = featureSelection(metadata, folders.visionTower);
  saveLlava(folders, output, { imageTokenIndex, ...features });
  write(`wrote config.json and model.safetensors (LLaVA, image_token_index ${imageTokenIndex}, vision_feature_layer ${features.visionFeatureLayer}, strategy "${features.visionFeatureSelectStrategy}") to ${output}`);

  const tokenizer = copyExistingFiles(join(source, "tokenizer"), output, TOKENIZER_FILES);
  if (tokenizer.length > 0) write(`tokenizer: copied ${tokenizer.join(", ")}`);
  else write(`tokenizer: ${source} has no tokenizer/ files, so none were written`);
  const preprocessor = copyExistingFiles(join(source, "vision_encoder"), output, ["preprocessor_config.json"]);
  if (preprocessor.length > 0) write("preprocessor: copied preprocessor_config.json");
  else write(`preprocessor: ${source} has no vision_encoder/preprocessor_config.json, so none was written`);
}

function checkModuleLayout(source: string): void {
  if (!existsSync(join(source, MODULE_FOLDERS.languageModel, "config.json"))) {
    throw new InputError(`${source} is not a folder written by mm train or mm convert: ${MODULE_FOLDERS.languageModel}/config.json is missing`, source);
  }
  const encoders = readdirSync(source).filter((name) => name.endsWith("_encoder")).sort();
  if (encoders.length !== 1 || encoders[0] !== "vision_encoder") {
    const found = encoders.length === 0 ? "no encoder" : `the encoders ${encoders.join(", ")}`;
    throw new InputError(`${source} has ${found}, but a LLaVA model has exactly one, vision_encoder`, source);
  }
}

/**
 * Returns LLaVA's feature layer and strategy: those mm_config.json recorded when mm convert wrote
 * the folder, else the features that mm train used, which are the tower's whole last_hidden_state.
 * LLaVA selects `hidden_states[vision_feature_layer]`, which equals last_hidden_state for CLIP
 * only: SigLIP and ViT apply a final layer norm to last_hidden_state alone.
 */
function featureSelection(metadata: Record<string, unknown>, visionTower: string): FeatureSelection {
  const recorded = metadata.llava as { vision_feature_layer?: number; vision_feature_select_strategy?: "default" | "full" } | undefined;
  if (recorded !== undefined) {
    return { visionFeatureLayer: recorded.vision_feature_layer ?? -2, visionFeatureSelectStrategy: recorded.vision_feature_select_strategy ?? "default" };
  }
  const configPath = join(visionTower, "config.json");
  const modelType = readJsonFile(configPath).model_type;
  if (modelType !== "clip_vision_model") {
    throw new ConfigError(
      `${configPath}: the vision encoder is ${JSON.stringify(modelType)}, and mm trained on its last_hidden_state, which LLaVA's ` +
        "hidden_states[vision_feature_layer] selection reproduces only for clip_vision_model; this model cannot be written as LLaVA",
      "model_type",
      configPath,
    );
  }
  return { visionFeatureLayer: -1, visionFeatureSelectStrategy: "full" };
}
