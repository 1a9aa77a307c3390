import type { Module } from "@mm/core";

/** A model built from a Hugging Face `config.json`, whose parameter paths are HF's tensor names. */
export interface PretrainedModel extends Module {
  /** The config's `model_type`, e.g. "llama" or "clip_vision_model". */
  readonly modelType: string;
  /** The `config.json` contents to write next to the weights. */
  toConfigJson(): Record<string, unknown>;
  /** Parameter paths a checkpoint may omit because they share storage with another (tied lm_head). */
  tiedParameterNames?(): string[];
  /** Checkpoint names to skip on load, e.g. the text tower when loading only CLIP's vision tower. */
  ignoredCheckpointNames?(): RegExp[];
}

/** Builds a model with random weights from a parsed `config.json`; `source` names the file in errors. */
export type ModelFactory = (config: Record<string, unknown>, source: string) => PretrainedModel;
