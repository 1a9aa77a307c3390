import { join } from "node:path";
import type * as tf from "@tensorflow/tfjs";
import {
  ConfigError,
  ModalEncoderModule,
  MultimodalModel,
  MultimodalProjector,
  type CausalLanguageModel,
  type ModalityEncoder,
} from "@mm/core";
// The families that vision_config and text_config name register themselves on import.
import "../decoders";
import "../encoders";
import { VisionEncoderModel } from "../encoders/vision-encoder-model";
import { readCheckpoint, readJsonFile } from "../pretrained/load-save";
import type { PretrainedModel } from "../pretrained/pretrained-model";
import { createModelFromConfig } from "../pretrained/registry";
import { readLlavaSettings, type LlavaSettings } from "./llava-config";
import { llavaFeatureSelector } from "./llava-features";
import { splitLlavaCheckpoint } from "./llava-weights";

type VisionTower = ModalityEncoder & PretrainedModel;
type TextModel = CausalLanguageModel & PretrainedModel;

/**
 * Builds a LLaVA MultimodalModel with random weights from a parsed LLaVA `config.json`: the vision
 * tower of `vision_config` (CLIP, SigLIP, ...) under the modality key "vision", an "mlp" projector
 * (transformers' `linear_1`, activation, `linear_2`), and the language model of `text_config`.
 * The encoder module picks `hidden_states[vision_feature_layer]` and drops the class token row
 * for the "default" strategy, and `image_token_index` becomes the vision token id.
 */
export function buildLlava(config: Record<string, unknown>, source = "config.json"): MultimodalModel {
  const settings = readLlavaSettings(config, source);
  const visionTower = createModelFromConfig(settings.visionConfig, `${source} (vision_config)`) as VisionTower;
  const languageModel = createModelFromConfig(settings.textConfig, `${source} (text_config)`) as TextModel;
  try {
    checkParts(visionTower, languageModel, settings, source);
    const projector = new MultimodalProjector({
      inFeatures: visionTower.hiddenSize,
      outFeatures: languageModel.hiddenSize,
      projectionType: "mlp",
      activation: settings.projectorHiddenAct,
      bias: settings.projectorBias,
    });
    // NOTE: the tower still runs its layers after vision_feature_layer and its pooler, and the
    // selector discards their output (transformers 4.40 computes them too).
    const vision = new ModalEncoderModule({
      model: visionTower,
      projector,
      outputHiddenStates: true,
      postprocessModuleCallback: llavaFeatureSelector(settings.visionFeatureLayer, settings.visionFeatureSelectStrategy),
      featuresPerInput: featuresPerImage(visionTower, settings),
    });
    const model = new MultimodalModel({ encoders: { vision }, languageModel });
    model.setModalityTokenIds({ vision: settings.imageTokenIndex });
    return model;
  } catch (error) {
    visionTower.dispose();
    languageModel.dispose();
    throw error;
  }
}

/**
 * Loads a Hugging Face LLaVA folder (`config.json` with model_type "llava" and
 * `model.safetensors` or its shards) into a MultimodalModel. buildLlava describes the structure
 * and splitLlavaCheckpoint the tensor layouts it reads. Parameter paths become
 * `vision_encoder.module.*`, `vision_encoder.projector.*` and `language_model.*`. Missing,
 * unexpected or wrongly shaped tensors are a ShapeError listing each by name.
 *
 * input_ids must repeat `image_token_index` once per feature row of each image
 * (`model.encoders.vision.featuresPerInput`), as the processors of transformers 4.45 and later
 * expand it.
 *
 * NOTE: saveLlava writes the LLaVA layout from one folder per part, but nothing writes an
 * in-memory MultimodalModel in that layout directly. llavaCheckpointName maps its parameter paths.
 *
 * @example
 * const model = loadLlava("models/llava-1.5-7b-hf");
 * const { logits } = model.forward({ input_ids, attention_mask, encoderInputs: { vision: { inputs: { pixel_values }, inputsPerSample: [1] } } });
 */
export function loadLlava(directory: string, config?: Record<string, unknown>): MultimodalModel {
  const configPath = join(directory, "config.json");
  const model = buildLlava(config ?? readJsonFile(configPath), configPath);
  const tensors = readCheckpoint(directory);
  try {
    const parts = splitLlavaCheckpoint(tensors, directory);
    const vision = model.encoders.vision;
    loadPart(vision.module as VisionTower, parts.visionTower, `${directory} (vision tower)`);
    vision.projector!.loadStateDict(parts.projector, { source: `${directory} (projector)` });
    loadPart(model.languageModel as TextModel, parts.languageModel, `${directory} (language model)`);
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    for (const tensor of tensors.values()) tensor.dispose();
  }
  return model;
}

/** Loads one part as loadPretrained does: skips the names the family ignores, allows tied ones to be absent. */
function loadPart(module: PretrainedModel, tensors: Map<string, tf.Tensor>, source: string): void {
  const ignored = module.ignoredCheckpointNames?.() ?? [];
  const loadable = new Map([...tensors].filter(([name]) => !ignored.some((pattern) => pattern.test(name))));
  module.loadStateDict(loadable, { allowMissing: module.tiedParameterNames?.() ?? [], source });
}

function checkParts(visionTower: VisionTower, languageModel: TextModel, settings: LlavaSettings, source: string): void {
  if (visionTower.mainInputName !== "pixel_values") {
    throw new ConfigError(`${source}: vision_config builds a ${visionTower.modelType} model, which does not read pixel_values; use an image encoder`, "vision_config", source);
  }
  if (typeof languageModel.embedTokens !== "function") {
    throw new ConfigError(`${source}: text_config builds a ${languageModel.modelType} model, which is not a causal language model`, "text_config", source);
  }
  if (visionTower instanceof VisionEncoderModel) {
    const states = visionTower.config.num_hidden_layers + 1;
    const layer = settings.visionFeatureLayer;
    if (layer >= states || layer < -states) {
      const message = `${source}: vision_feature_layer ${layer} is outside the vision tower's ${states} hidden states (embeddings and ${states - 1} layers)`;
      throw new ConfigError(message, "vision_feature_layer", source);
    }
  }
}

/** Rows per image that reach the LLM: the tower's rows, less the class token row for "default". */
function featuresPerImage(visionTower: VisionTower, settings: LlavaSettings): number | undefined {
  if (visionTower.numFeatures === undefined) return undefined;
  return settings.visionFeatureSelectStrategy === "default" ? visionTower.numFeatures - 1 : visionTower.numFeatures;
}
