import { ConfigError } from "../errors/errors";

/** Per-modality [encoder trainable, projector trainable]. */
export type EncoderModes = Record<string, [boolean, boolean]>;

export interface TrainModes {
  /** Trainable flags per modality; modalities not listed follow `llmMode`. */
  encodersMode?: EncoderModes;
  /** Whether the LLM trains (default true). */
  llmMode?: boolean;
}

/**
 * Resolves `train()` arguments into one [encoder, projector] pair per modality. Without
 * `encodersMode` every encoder and projector follows `llmMode`; an unknown key is an error.
 */
export function resolveEncoderModes(modalities: string[], modes: TrainModes): EncoderModes {
  const llmMode = modes.llmMode ?? true;
  const resolved: EncoderModes = {};
  for (const modality of modalities) resolved[modality] = [llmMode, llmMode];
  for (const [key, value] of Object.entries(modes.encodersMode ?? {})) {
    if (!modalities.includes(key)) {
      throw new ConfigError(`encodersMode: unknown modality "${key}"; this model has ${modalities.map((m) => `"${m}"`).join(", ") || "no encoders"}`, `encodersMode.${key}`);
    }
    if (!Array.isArray(value) || value.length !== 2 || value.some((flag) => typeof flag !== "boolean")) {
      throw new ConfigError(`encodersMode.${key}: expected [encoderTrainable, projectorTrainable] booleans, got ${JSON.stringify(value)}`, `encodersMode.${key}`);
    }
    resolved[key] = [value[0], value[1]];
  }
  return resolved;
}
