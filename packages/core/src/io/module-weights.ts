import * as tf from "@tensorflow/tfjs";
import type { Module } from "../nn/module";
import { readSafetensors, writeSafetensors, type SafetensorsWriteEntry } from "./safetensors";

/** Reads a safetensors file into tfjs tensors (float32 or int32); the caller disposes them. */
export function readTensors(path: string): Map<string, tf.Tensor> {
  const { tensors } = readSafetensors(path);
  const result = new Map<string, tf.Tensor>();
  for (const [name, entry] of tensors) {
    result.set(name, tf.tensor(entry.values, entry.shape, entry.values instanceof Float32Array ? "float32" : "int32"));
  }
  return result;
}

/** Copies tensors to host memory in the form `writeSafetensors` takes. */
export async function toWriteEntries(tensors: Iterable<[string, tf.Tensor]>): Promise<Map<string, SafetensorsWriteEntry>> {
  const entries = new Map<string, SafetensorsWriteEntry>();
  for (const [name, tensor] of tensors) {
    const values = await tensor.data();
    entries.set(name, { shape: tensor.shape, values: values instanceof Float32Array ? values : Int32Array.from(values) });
  }
  return entries;
}

/**
 * Loads a module's parameters from a safetensors file whose names are the module's parameter
 * paths, with `rename` applied to each file name first. Errors list missing, unexpected and wrongly
 * shaped names.
 */
export function loadModuleWeights(
  module: Module,
  path: string,
  options: { allowMissing?: string[]; rename?: (name: string) => string | undefined } = {},
): void {
  const tensors = readTensors(path);
  try {
    const renamed = new Map<string, tf.Tensor>();
    for (const [name, tensor] of tensors) {
      const target = options.rename === undefined ? name : options.rename(name);
      if (target !== undefined) renamed.set(target, tensor);
    }
    module.loadStateDict(renamed, { allowMissing: options.allowMissing, source: path });
  } finally {
    for (const tensor of tensors.values()) tensor.dispose();
  }
}

/** Writes every parameter of `module` under its dotted path. */
export async function saveModuleWeights(module: Module, path: string, options: { exclude?: string[] } = {}): Promise<void> {
  const exclude = new Set(options.exclude ?? []);
  const parameters = module.namedParameters().filter(([name]) => !exclude.has(name));
  writeSafetensors(path, await toWriteEntries(parameters));
}
