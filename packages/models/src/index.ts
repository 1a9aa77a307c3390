export type { PretrainedModel, ModelFactory } from "./pretrained/pretrained-model";
export { registerModelFamily, registeredModelTypes, createModelFromConfig } from "./pretrained/registry";
export { loadPretrained, savePretrained, readCheckpoint, weightFiles, readJsonFile, writeJsonFile } from "./pretrained/load-save";
export { ConfigReader } from "./pretrained/config-fields";
