export type { PretrainedModel, ModelFactory } from "./pretrained/pretrained-model";
export { registerModelFamily, registeredModelTypes, createModelFromConfig } from "./pretrained/registry";
export { loadPretrained, savePretrained, readCheckpoint, weightFiles, readJsonFile, writeJsonFile } from "./pretrained/load-save";
export { ConfigReader } from "./pretrained/config-fields";
export { CLIPVisionModel, SelfAttention, scaledDotProductAttention } from "./encoders";
export type { VisionConfig } from "./encoders";
export {
  DecoderForCausalLM,
  LlamaForCausalLM,
  Qwen2ForCausalLM,
  MistralForCausalLM,
  GemmaForCausalLM,
  readLlamaSettings,
  readQwen2Settings,
  readMistralSettings,
  readGemmaSettings,
} from "./decoders";
export type { DecoderConfig, DecoderSettings, DecoderForwardOptions, DecoderOutput, LlamaConfig, Qwen2Config, MistralConfig, GemmaConfig } from "./decoders";
export { SiglipVisionModel, ViTModel, WhisperEncoder, whisperSinusoids, Conv1d, conv1d } from "./encoders";
export type { ViTExtraConfig, WhisperEncoderConfig, Conv1dOptions } from "./encoders";
export { KeyValueCache, LayerKeyValueCache, positionIdsFromMask } from "./decoders";
export { generate, generateMultimodal, applyRepetitionPenalty, applyTemperature, applyTopK, applyTopP, argmax, sampleFromScores } from "./generation";
export type { GenerationInputs, GenerationOutput, GenerativeModel, GenerationOptions } from "./generation";
export { buildLlava, loadLlava, readLlavaSettings, llavaFeatureSelector, llavaCheckpointName, splitLlavaCheckpoint } from "./llava";
export type { LlavaConfig, LlavaSettings, VisionFeatureSelectStrategy, LlavaPart, LlavaPartTensors } from "./llava";
export { resolveModelReference, HubDownloadError, HubUnreachableError, parseHubReference } from "./hub";
export type { ResolveModelOptions, HubModelReference } from "./hub";
export { llavaPartTensorName, splitLlavaFolder, saveLlava, readStoredTensors, writeStoredTensors } from "./llava";
export type { LlavaModuleFolders, SaveLlavaOptions, StoredTensor } from "./llava";
