import { fileURLToPath } from "node:url";

/** Llama 2 tokenizer folder (tokenizer.json, tokenizer_config.json), for tests only. */
export const LLAMA2_TOKENIZER_DIR = fileURLToPath(new URL("../../test-fixtures/tokenizers/llama2", import.meta.url));

/** Mistral 7B v0.1 tokenizer folder, for tests only. */
export const MISTRAL_TOKENIZER_DIR = fileURLToPath(new URL("../../test-fixtures/tokenizers/mistral", import.meta.url));
