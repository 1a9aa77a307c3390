import { ConfigError, type MultimodalModel } from "@mm/core";
import type { EncoderProcessor } from "./encoder-processor";

/** A modality token as the tokenizer registered it. */
export interface RegisteredToken {
  modality: string;
  token: string;
  id: number;
}

/**
 * Checks the tokenizer's id of a modality token against the ids the model already uses. The
 * first is the placeholder id in the model's config.json: `image_token_index`, else
 * `image_token_id`, for a processor with inputKey "images", and `audio_token_index`, else
 * `audio_token_id`, for "audio". The second is the id that a checkpoint loader recorded on the
 * model (LLaVA's loader records `image_token_index`).
 *
 * @throws ConfigError naming both ids when either differs from the tokenizer's id.
 */
export function checkModelTokenIds(
  registered: RegisteredToken,
  processor: EncoderProcessor,
  modelConfig: Readonly<Record<string, unknown>> | undefined,
  model: MultimodalModel | undefined,
): void {
  const { modality, token, id } = registered;
  const configured = modelConfig === undefined ? undefined : readConfigTokenId(modelConfig, processor.inputKey, modality);
  if (configured !== undefined && configured.id !== id) {
    throw new ConfigError(
      `${modality}: the tokenizer gives ${JSON.stringify(token)} the id ${id} but the model config's ${configured.key} ` +
        `is ${configured.id}; load the tokenizer saved with the checkpoint, or set predefinedTokens.${modality} to ` +
        `the token text whose id is ${configured.id}`,
      configured.key,
      "config.json",
    );
  }

  const recorded = model?.modalityTokenIds[modality];
  if (recorded !== undefined && recorded !== id) {
    throw new ConfigError(
      `${modality}: the model already uses token id ${recorded} for ${modality} (recorded by its loader or an ` +
        `earlier setModalityTokenIds call) but the tokenizer gives ${JSON.stringify(token)} the id ${id}; load the ` +
        `tokenizer saved with the checkpoint, or set predefinedTokens.${modality} to the token text whose id is ${recorded}`,
      modality,
    );
  }
}

/** Returns `<stem>_token_index`, else `<stem>_token_id`, where the stem is "image" for "images" inputs. */
function readConfigTokenId(
  config: Readonly<Record<string, unknown>>,
  inputKey: string,
  modality: string,
): { key: string; id: number } | undefined {
  const stem = inputKey === "images" ? "image" : inputKey;
  for (const key of [`${stem}_token_index`, `${stem}_token_id`]) {
    const value = config[key];
    if (value === undefined || value === null) continue;
    if (!Number.isInteger(value) || (value as number) < 0) {
      throw new ConfigError(
        `${modality}: the model config's ${key} must be a non-negative integer token id, found ${JSON.stringify(value)}`,
        key,
        "config.json",
      );
    }
    return { key, id: value as number };
  }
  return undefined;
}
