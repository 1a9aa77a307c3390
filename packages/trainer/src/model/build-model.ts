import { join } from "node:path";
import { ConfigError, loadModuleWeights, ModalEncoderModule, MultimodalModel, MultimodalProjector, type CausalLanguageModel, type ModalityEncoder } from "@mm/core";
import { createModelFromConfig, loadPretrained, readJsonFile, type PretrainedModel } from "@mm/models";
import { audioEncoderProcessor, imageEncoderProcessor, loadImageProcessor, loadWhisperFeatureExtractor, MultimodalProcessor, Tokenizer, type EncoderProcessor } from "@mm/processor";
import type { EncoderSpec, ModelSource, TrainConfig } from "../config/train-config";

/** A model with the processor that feeds it. */
export interface TrainingSetup {
  model: MultimodalModel;
  processor: MultimodalProcessor;
}

function buildModule(source: ModelSource, key: string): PretrainedModel {
  if (source.path !== undefined) return loadPretrained(source.path);
  return createModelFromConfig(source.config ?? {}, `config "${key}.config"`);
}

function buildProjector(spec: EncoderSpec, encoder: ModalityEncoder, llm: CausalLanguageModel): MultimodalProjector {
  if (spec.projector.path !== undefined) {
    const projector = MultimodalProjector.fromConfigJson(readJsonFile(join(spec.projector.path, "config.json")));
    loadModuleWeights(projector, join(spec.projector.path, "model.safetensors"));
    return projector;
  }
  return new MultimodalProjector({
    inFeatures: encoder.hiddenSize,
    outFeatures: llm.hiddenSize,
    projectionType: spec.projector.type,
    activation: spec.projector.activation,
  });
}

async function buildEncoderProcessor(modality: string, spec: EncoderSpec, encoder: ModalityEncoder): Promise<EncoderProcessor> {
  const key = `model.encoders.${modality}.processor`;
  const source = spec.processor.path ?? spec.processor.config;
  if (source === undefined) throw new ConfigError(`${key}: give "path" (a folder with preprocessor_config.json) or "config"`, key);
  if (encoder.mainInputName === "pixel_values") return imageEncoderProcessor(await loadImageProcessor(source as Parameters<typeof loadImageProcessor>[0]));
  if (encoder.mainInputName === "input_features") return audioEncoderProcessor(await loadWhisperFeatureExtractor(source));
  throw new ConfigError(`model.encoders.${modality}: no processor reads inputs for "${encoder.mainInputName}"; mm train supports pixel_values and input_features encoders`, `model.encoders.${modality}`);
}

/**
 * Builds the MultimodalModel and its MultimodalProcessor from a train config: each module from a
 * Hugging Face folder or an inline config (random weights), a projector per encoder, the
 * tokenizer with one token per modality, and the modality token ids recorded on the model.
 */
export async function buildTrainingSetup(config: TrainConfig): Promise<TrainingSetup> {
  const tokenizer = Tokenizer.fromPretrained(config.tokenizer);
  const llm = buildModule(config.model.languageModel, "model.languageModel") as unknown as CausalLanguageModel;
  if (tokenizer.vocabSize > llm.vocabSize) {
    throw new ConfigError(
      `the tokenizer in ${config.tokenizer} has ${tokenizer.vocabSize} tokens but the language model's vocab_size is ${llm.vocabSize}; set vocab_size to at least ${tokenizer.vocabSize}`,
      "model.languageModel",
    );
  }
  const encoders: Record<string, ModalEncoderModule> = {};
  const encoderProcessors: Record<string, EncoderProcessor> = {};
  for (const [modality, spec] of Object.entries(config.model.encoders)) {
    const encoder = buildModule(spec.model, `model.encoders.${modality}.model`) as unknown as ModalityEncoder;
    encoders[modality] = new ModalEncoderModule({ model: encoder, projector: buildProjector(spec, encoder, llm) });
    encoderProcessors[modality] = await buildEncoderProcessor(modality, spec, encoder);
  }
  const model = new MultimodalModel({ encoders, languageModel: llm });
  const predefinedTokens = Object.fromEntries(Object.entries(config.model.encoders).flatMap(([m, spec]) => (spec.token === undefined ? [] : [[m, spec.token]])));
  const processor = new MultimodalProcessor({ encoderProcessors, tokenizer, model, predefinedTokens });
  return { model, processor };
}
