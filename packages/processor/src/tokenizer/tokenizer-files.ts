import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "@mm/core";

/** One entry of `added_tokens` in tokenizer.json, with Hugging Face's key names. */
export interface AddedTokenEntry {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** The parts of tokenizer.json that mm reads or changes; the rest passes through untouched. */
export interface TokenizerJson {
  added_tokens: AddedTokenEntry[];
  model: Record<string, unknown>;
  [key: string]: unknown;
}

/** tokenizer_config.json or special_tokens_map.json: a flat object with Hugging Face keys. */
export type TokenizerConfigJson = Record<string, unknown>;

/** The three files of a Hugging Face tokenizer folder, parsed. */
export interface TokenizerFiles {
  tokenizerJson: TokenizerJson;
  /** Empty when the folder has no tokenizer_config.json. */
  tokenizerConfig: TokenizerConfigJson;
  /** Empty when the folder has no special_tokens_map.json. */
  specialTokensMap: TokenizerConfigJson;
  hasTokenizerConfig: boolean;
  /**
   * Contents of chat_template.jinja, the file in which newer transformers versions save the chat
   * template; undefined when the folder has none.
   */
  chatTemplateFile?: string;
}

/**
 * Reads tokenizer.json (required), tokenizer_config.json, special_tokens_map.json and
 * chat_template.jinja (all optional) from a Hugging Face tokenizer folder.
 *
 * @throws InputError when tokenizer.json is missing, or when any of the files is not a JSON object.
 */
export function readTokenizerFiles(dir: string): TokenizerFiles {
  const tokenizerPath = join(dir, "tokenizer.json");
  if (!existsSync(tokenizerPath)) {
    throw new InputError(
      `tokenizer.json not found at ${tokenizerPath}; pass the folder of a Hugging Face tokenizer ` +
        `that contains tokenizer.json (a folder with only tokenizer.model can be converted by loading it ` +
        `with transformers' AutoTokenizer and calling save_pretrained)`,
      tokenizerPath,
    );
  }
  const tokenizerJson = readJsonObject(tokenizerPath) as TokenizerJson;
  checkTokenizerJson(tokenizerJson, tokenizerPath);

  const configPath = join(dir, "tokenizer_config.json");
  const hasTokenizerConfig = existsSync(configPath);
  const tokenizerConfig = hasTokenizerConfig ? readJsonObject(configPath) : {};

  const mapPath = join(dir, "special_tokens_map.json");
  const specialTokensMap = existsSync(mapPath) ? readJsonObject(mapPath) : {};

  const templatePath = join(dir, "chat_template.jinja");
  const chatTemplateFile = existsSync(templatePath) ? readFileSync(templatePath, "utf8") : undefined;

  return { tokenizerJson, tokenizerConfig, specialTokensMap, hasTokenizerConfig, chatTemplateFile };
}

function readJsonObject(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InputError(`${path} is not valid JSON (${reason}); restore the file from the model's repository`, path);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InputError(`${path} must contain a JSON object, found ${describeJson(parsed)}`, path);
  }
  return parsed as Record<string, unknown>;
}

function checkTokenizerJson(json: TokenizerJson, path: string): void {
  if (typeof json.model !== "object" || json.model === null) {
    throw new InputError(`${path} has no "model" object; it is not a Hugging Face tokenizer.json`, path);
  }
  if (json.added_tokens === undefined || json.added_tokens === null) {
    json.added_tokens = [];
  }
  if (!Array.isArray(json.added_tokens)) {
    throw new InputError(`${path}: "added_tokens" must be an array, found ${describeJson(json.added_tokens)}`, path);
  }
}

function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
