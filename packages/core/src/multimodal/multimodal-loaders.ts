import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, InputError } from "../errors/errors";
import type { MultimodalModel } from "./multimodal-model";

/**
 * Builds a MultimodalModel from a checkpoint folder whose `config.json` has a registered
 * `model_type`. `config` is that file, already parsed.
 */
export type MultimodalLoader = (directory: string, config: Record<string, unknown>) => MultimodalModel;

const loaders = new Map<string, MultimodalLoader>();

/**
 * Registers the loader of a whole-model checkpoint type such as "llava". Core ships no loaders,
 * because core does not depend on the model families: importing `@mm/models` registers them.
 */
export function registerMultimodalLoader(modelType: string, loader: MultimodalLoader): void {
  loaders.set(modelType, loader);
}

/** Returns the `model_type` values that `loadMultimodalPretrained` can read, sorted. */
export function registeredMultimodalTypes(): string[] {
  return [...loaders.keys()].sort();
}

/**
 * Reads `config.json` in `directory` and hands the folder to the loader registered for its
 * `model_type`. Throws an InputError when the file is missing or not JSON, and a ConfigError
 * when no loader is registered for the type.
 */
export function loadMultimodalPretrained(directory: string): MultimodalModel {
  const configPath = join(directory, "config.json");
  const config = readConfig(configPath);
  const modelType = config.model_type;
  const loader = typeof modelType === "string" ? loaders.get(modelType) : undefined;
  if (loader === undefined) {
    const known = registeredMultimodalTypes().map((type) => `"${type}"`).join(", ") || "none";
    throw new ConfigError(
      `${configPath}: no multimodal loader for model_type ${JSON.stringify(modelType ?? null)}; registered: ${known}. ` +
        `Import "@mm/models" before loading, because it registers the loaders (llava)`,
      "model_type",
      configPath,
    );
  }
  return loader(directory, config);
}

function readConfig(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new InputError(`file not found: ${path}; a multimodal checkpoint folder needs config.json`, path);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new InputError(`invalid JSON in ${path}: ${(error as Error).message}`, path);
  }
}
