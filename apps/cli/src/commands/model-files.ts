import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/**
 * Tokenizer files of a Hugging Face model folder that mm convert copies. mm reads the first four;
 * transformers' slow tokenizers also read tokenizer.model and added_tokens.json.
 */
export const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "tokenizer.model", "added_tokens.json"];

/** Copies those of `files` that exist in `source` into `target` (created when needed); returns their names. */
export function copyExistingFiles(source: string, target: string, files: readonly string[]): string[] {
  const present = files.filter((file) => existsSync(join(source, file)));
  if (present.length > 0) mkdirSync(target, { recursive: true });
  for (const file of present) copyFileSync(join(source, file), join(target, file));
  return present;
}
