import { readFileSync } from "node:fs";
import { isAbsolute } from "node:path";
import { InputError } from "@mm/core";

/** The single-file checkpoint; preferred over shards when a repository has both, as `loadPretrained` does. */
export const SINGLE_WEIGHTS_FILE = "model.safetensors";
/** The index of a sharded checkpoint; its `weight_map` names the shard files. */
export const WEIGHTS_INDEX_FILE = "model.safetensors.index.json";
export const CONFIG_FILE = "config.json";

/** Files fetched besides the weights when the repository has them; only `config.json` is required. */
export const OPTIONAL_MODEL_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "preprocessor_config.json",
  "generation_config.json",
] as const;

/**
 * Reads the shard names from a `model.safetensors.index.json`, sorted and without repeats.
 * A shard name that is absolute or climbs out of the folder is an InputError.
 */
export function readShardNames(indexPath: string): string[] {
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(readFileSync(indexPath, "utf8")) as { weight_map?: unknown }).weight_map;
  } catch (error) {
    throw new InputError(`invalid JSON in ${indexPath}: ${(error as Error).message}`, indexPath);
  }
  if (typeof weightMap !== "object" || weightMap === null || Array.isArray(weightMap)) {
    throw new InputError(`${indexPath}: "weight_map" must be an object mapping tensor names to shard files`, indexPath);
  }
  const shards = [...new Set(Object.values(weightMap).map(String))].sort();
  const unsafe = shards.find((shard) => isAbsolute(shard) || shard.split(/[\\/]/).includes(".."));
  if (unsafe !== undefined) throw new InputError(`${indexPath}: shard file "${unsafe}" is outside the model folder`, indexPath);
  return shards;
}
