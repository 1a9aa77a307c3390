import { ConfigError } from "@mm/core";
import type { TokenizerConfigJson } from "./tokenizer-files";

/** Side of a sequence that receives padding. */
export type PaddingSide = "left" | "right";

/** Side of a sequence that loses tokens when it is longer than the maximum length. */
export type TruncationSide = "left" | "right";

/** The text of the special tokens a tokenizer folder names; null where it names none. */
export interface SpecialTokenContents {
  bos_token: string | null;
  eos_token: string | null;
  pad_token: string | null;
  unk_token: string | null;
}

const SPECIAL_TOKEN_KEYS = ["bos_token", "eos_token", "pad_token", "unk_token"] as const;

/**
 * Reads the special tokens from tokenizer_config.json and special_tokens_map.json. As in
 * transformers, a non-null value in special_tokens_map.json overrides the one in the config.
 *
 * @throws ConfigError when a value is neither a string, an AddedToken object (`{ content }`) nor null.
 */
export function readSpecialTokens(
  config: TokenizerConfigJson,
  specialTokensMap: TokenizerConfigJson,
): SpecialTokenContents {
  const contents: SpecialTokenContents = { bos_token: null, eos_token: null, pad_token: null, unk_token: null };
  for (const key of SPECIAL_TOKEN_KEYS) {
    const fromMap = readTokenContent(specialTokensMap[key], key, "special_tokens_map.json");
    contents[key] = fromMap ?? readTokenContent(config[key], key, "tokenizer_config.json");
  }
  return contents;
}

function readTokenContent(value: unknown, key: string, file: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "object" && typeof (value as { content?: unknown }).content === "string") {
    return (value as { content: string }).content;
  }
  throw new ConfigError(
    `${file}: "${key}" must be a token string, an object with a "content" string, or null; found ${JSON.stringify(value)}`,
    key,
    file,
  );
}

/**
 * Reads `padding_side` from tokenizer_config.json; "right" when the key is absent.
 *
 * @throws ConfigError when the value is not "left" or "right".
 */
export function readPaddingSide(config: TokenizerConfigJson): PaddingSide {
  return readSide(config, "padding_side");
}

/**
 * Reads `truncation_side` from tokenizer_config.json; "right" (keep the first tokens) when the
 * key is absent, as in transformers.
 *
 * @throws ConfigError when the value is not "left" or "right".
 */
export function readTruncationSide(config: TokenizerConfigJson): TruncationSide {
  return readSide(config, "truncation_side");
}

function readSide(config: TokenizerConfigJson, key: "padding_side" | "truncation_side"): "left" | "right" {
  const value = config[key];
  if (value === undefined || value === null) return "right";
  if (value === "left" || value === "right") return value;
  throw new ConfigError(
    `tokenizer_config.json: "${key}" must be "left" or "right", found ${JSON.stringify(value)}`,
    key,
    "tokenizer_config.json",
  );
}
