import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { InputError, readTensors, writeSafetensors, toWriteEntries } from "@mm/core";
import type { PretrainedModel } from "./pretrained-model";
import { createModelFromConfig } from "./registry";

/** Reads and parses a JSON file, with errors that name the file. */
export function readJsonFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new InputError(`file not found: ${path}; a Hugging Face model folder needs config.json and model.safetensors`, path);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new InputError(`invalid JSON in ${path}: ${(error as Error).message}`, path);
  }
}

/** The weight files of a model folder: `model.safetensors`, or the shards its index lists. */
export function weightFiles(directory: string): string[] {
  const single = join(directory, "model.safetensors");
  if (existsSync(single)) return [single];
  const indexPath = join(directory, "model.safetensors.index.json");
  if (!existsSync(indexPath)) {
    throw new InputError(`no weights in ${directory}: expected model.safetensors or model.safetensors.index.json`, directory);
  }
  const weightMap = (readJsonFile(indexPath).weight_map ?? {}) as Record<string, string>;
  return [...new Set(Object.values(weightMap))].sort().map((file) => join(directory, file));
}

/** Reads every tensor of a model folder (single file or shards) by name; the caller disposes them. */
export function readCheckpoint(directory: string): Map<string, tf.Tensor> {
  const tensors = new Map<string, tf.Tensor>();
  for (const file of weightFiles(directory)) {
    for (const [name, tensor] of readTensors(file)) tensors.set(name, tensor);
  }
  return tensors;
}

/**
 * Loads a Hugging Face model folder: `config.json` picks the family (`model_type`, else
 * `architectures`), then the weights are read from `model.safetensors` or its shards.
 * F16 and BF16 weights become float32. Missing, unexpected or wrongly shaped tensors are an error
 * listing each by name with both shapes; a tied `lm_head.weight` may be absent.
 */
export function loadPretrained<M extends PretrainedModel = PretrainedModel>(directory: string): M {
  const configPath = join(directory, "config.json");
  const model = createModelFromConfig(readJsonFile(configPath), configPath) as M;
  const tensors = readCheckpoint(directory);
  try {
    const ignored = model.ignoredCheckpointNames?.() ?? [];
    for (const name of [...tensors.keys()]) {
      if (ignored.some((pattern) => pattern.test(name))) {
        tensors.get(name)!.dispose();
        tensors.delete(name);
      }
    }
    model.loadStateDict(tensors, { allowMissing: model.tiedParameterNames?.() ?? [], source: directory });
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    for (const tensor of tensors.values()) tensor.dispose();
  }
  return model;
}

/**
 * Writes `config.json` and `model.safetensors` with Hugging Face's tensor names, shapes and
 * layouts, so transformers (and `loadPretrained`) can read the folder. Tied parameters are not
 * written twice.
 */
export async function savePretrained(model: PretrainedModel, directory: string): Promise<void> {
  mkdirSync(directory, { recursive: true });
  const tied = new Set(model.tiedParameterNames?.() ?? []);
  const parameters = model.namedParameters().filter(([name]) => !tied.has(name));
  writeSafetensors(join(directory, "model.safetensors"), await toWriteEntries(parameters));
  writeJsonFile(join(directory, "config.json"), model.toConfigJson());
}

/** Writes JSON atomically (temporary file, then rename). */
export function writeJsonFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}
