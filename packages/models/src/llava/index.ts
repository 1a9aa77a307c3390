import { registerMultimodalLoader } from "@mm/core";
import { loadLlava } from "./load-llava";

// Lets MultimodalModel.fromPretrainedMultimodal read LLaVA folders once @mm/models is imported.
registerMultimodalLoader("llava", loadLlava);

export { buildLlava, loadLlava } from "./load-llava";
export { readLlavaSettings } from "./llava-config";
export type { LlavaConfig, LlavaSettings, VisionFeatureSelectStrategy } from "./llava-config";
export { llavaFeatureSelector } from "./llava-features";
export { llavaCheckpointName, splitLlavaCheckpoint } from "./llava-weights";
export type { LlavaPart, LlavaPartTensors } from "./llava-weights";
export { llavaPartTensorName } from "./llava-weights";
export { splitLlavaFolder } from "./split-llava-folder";
export type { LlavaModuleFolders } from "./split-llava-folder";
export { saveLlava } from "./save-llava";
export type { SaveLlavaOptions } from "./save-llava";
export { readStoredTensors, writeStoredTensors } from "./stored-tensors";
export type { StoredTensor } from "./stored-tensors";
