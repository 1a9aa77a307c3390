import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { InputError, loadModuleWeights, ModalEncoderModule, MultimodalModel, MultimodalProjector, type CausalLanguageModel, type ModalityEncoder } from "@mm/core";
import { llavaFeatureSelector, loadPretrained, readJsonFile } from "@mm/models";
import { audioEncoderProcessor, imageEncoderProcessor, loadImageProcessor, loadWhisperFeatureExtractor, MultimodalProcessor, Tokenizer, type EncoderProcessor } from "@mm/processor";
import type { TrainingSetup } from "../model/build-model";
import { MODULE_FOLDERS } from "./save-modules";

const ENCODER_SUFFIX = "_encoder";

async function loadEncoderProcessor(folder: string, encoder: ModalityEncoder): Promise<EncoderProcessor> {
  const config = join(folder, "preprocessor_config.json");
  if (!existsSync(config)) throw new InputError(`${config} is missing; the folder was not written by this version of mm train`, config);
  if (encoder.mainInputName === "input_features") return audioEncoderProcessor(await loadWhisperFeatureExtractor(config));
  return imageEncoderProcessor(await loadImageProcessor(config));
}

/**
 * The feature selection that `mm convert llava` records in mm_config.json ("llava": the hidden
 * state index and whether the class token is dropped), applied to the vision encoder as
 * transformers' LLaVA does. Folders written by mm train record none and use last_hidden_state.
 */
function llavaFeatureOptions(metadata: Record<string, unknown>, modality: string, encoder: ModalityEncoder) {
  const llava = metadata.llava as { vision_feature_layer: number; vision_feature_select_strategy: "default" | "full" } | undefined;
  if (llava === undefined || modality !== "vision") return {};
  const dropsClassToken = llava.vision_feature_select_strategy === "default";
  return {
    outputHiddenStates: true,
    postprocessModuleCallback: llavaFeatureSelector(llava.vision_feature_layer, llava.vision_feature_select_strategy),
    featuresPerInput: encoder.numFeatures === undefined ? undefined : encoder.numFeatures - (dropsClassToken ? 1 : 0),
  };
}

function loadProjector(folder: string): MultimodalProjector {
  const projector = MultimodalProjector.fromConfigJson(readJsonFile(join(folder, "config.json")));
  loadModuleWeights(projector, join(folder, "model.safetensors"));
  return projector;
}

/**
 * Loads a folder written by `mm train` (its output folder or a `checkpoints/step-N` folder):
 * each `<modality>_encoder` with its projector and preprocessor config, the language model, and
 * the tokenizer with its modality tokens, as a model with the processor that feeds it.
 */
export async function loadTrainedModel(directory: string): Promise<TrainingSetup> {
  if (!existsSync(join(directory, MODULE_FOLDERS.languageModel, "config.json"))) {
    throw new InputError(`${directory} is not a trained model folder: ${MODULE_FOLDERS.languageModel}/config.json is missing; pass the output folder of mm train`, directory);
  }
  const root = existsSync(join(directory, "tokenizer")) ? directory : join(directory, "..", "..");
  const metadata = readJsonFile(join(root, "mm_config.json"));
  const tokens = (metadata.modality_tokens ?? {}) as Record<string, string>;
  const llm = loadPretrained(join(directory, MODULE_FOLDERS.languageModel)) as unknown as CausalLanguageModel;
  const encoders: Record<string, ModalEncoderModule> = {};
  const encoderProcessors: Record<string, EncoderProcessor> = {};
  for (const entry of readdirSync(directory).filter((name) => name.endsWith(ENCODER_SUFFIX)).sort()) {
    const modality = entry.slice(0, -ENCODER_SUFFIX.length);
    const encoder = loadPretrained(join(directory, MODULE_FOLDERS.encoder(modality))) as unknown as ModalityEncoder;
    const projector = loadProjector(join(directory, MODULE_FOLDERS.projector(modality)));
    encoders[modality] = new ModalEncoderModule({ model: encoder, projector, ...llavaFeatureOptions(metadata, modality, encoder) });
    encoderProcessors[modality] = await loadEncoderProcessor(join(root, entry), encoder);
  }
  const model = new MultimodalModel({ encoders, languageModel: llm });
  const processor = new MultimodalProcessor({ encoderProcessors, tokenizer: Tokenizer.fromPretrained(join(root, "tokenizer")), model, predefinedTokens: tokens });
  model.eval();
  return { model, processor };
}
