export { generate } from "./generate";
export type { GenerationInputs, GenerationOutput, GenerativeModel } from "./generate";
export { resolveGenerationOptions } from "./generation-options";
export type { GenerationOptions, GenerationDefaults, ResolvedGenerationOptions } from "./generation-options";
export { applyRepetitionPenalty, applyTemperature, applyTopK, applyTopP } from "./logits-processors";
export { argmax, sampleFromScores, processScores, chooseToken } from "./sampling";
export { generateMultimodal } from "./generate-multimodal";
