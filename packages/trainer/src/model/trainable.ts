import type { MultimodalModel, TrainModes } from "@mm/core";
import type { TrainableSpec } from "../config/train-config";

/**
 * Turns the config's `trainable` setting into `MultimodalModel.train` arguments. Presets follow
 * LLaVA's stages: "projector" trains only the projectors (stage 1), "projector+llm" the projectors
 * and the LLM (stage 2), "all" everything.
 */
export function trainModesFor(spec: TrainableSpec, model: MultimodalModel): TrainModes {
  if (typeof spec !== "string") return { llmMode: spec.llm, encodersMode: spec.encoders };
  if (spec === "all") return { llmMode: true };
  const projectorsOnly = Object.fromEntries(model.modalities.map((m) => [m, [false, true] as [boolean, boolean]]));
  return { llmMode: spec === "projector+llm", encodersMode: projectorsOnly };
}
