import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { ConfigError } from "@mm/core";
import type { z } from "zod";
import { trainConfigSchema, type TrainConfig } from "./train-config";

/**
 * Reads, validates and resolves a `mm train` config file. Every problem is a ConfigError whose
 * one-line message names the file, the key, the value and what is allowed. Relative paths inside
 * the config are resolved against the config file's folder.
 */
export function loadTrainConfig(path: string): TrainConfig {
  if (!existsSync(path)) throw new ConfigError(`config file not found: ${path}; pass the path of a JSON config`, undefined, path);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError(`${path}: invalid JSON: ${(error as Error).message}`, undefined, path);
  }
  return resolvePaths(parseTrainConfig(raw, path), dirname(resolve(path)));
}

/** Validates a parsed config object; `source` names it in errors. */
export function parseTrainConfig(raw: unknown, source: string): TrainConfig {
  const result = trainConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`${source}: ${describeIssue(issue, raw)}`, issue.path.join("."), source);
  }
  return result.data;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const key = issue.path.join(".");
  if (issue.code === "unrecognized_keys") {
    const names = issue.keys.map((k) => (key === "" ? k : `${key}.${k}`));
    return `unknown key ${names.map((n) => `"${n}"`).join(", ")}; remove it or check its spelling`;
  }
  const value = valueAt(raw, issue.path);
  const shown = value === undefined ? "missing" : `got ${JSON.stringify(value)}`;
  const where = key === "" ? "config" : `"${key}"`;
  if (issue.code === "invalid_value") return `${where}: ${shown}; allowed: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  if (issue.code === "invalid_union" && key === "trainable") {
    return `${where}: ${shown}; use "projector", "projector+llm", "all" or { "llm": boolean, "encoders": { "<modality>": [encoder, projector] } }`;
  }
  return `${where}: ${shown}; ${issue.message.replace(/^Invalid input: /, "")}`;
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let current = raw;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function resolvePaths(config: TrainConfig, base: string): TrainConfig {
  const at = (path: string) => (isAbsolute(path) ? path : resolve(base, path));
  const source = <T extends { path?: string }>(s: T): T => (s.path === undefined ? s : { ...s, path: at(s.path) });
  const encoders = Object.fromEntries(
    Object.entries(config.model.encoders).map(([modality, spec]) => [
      modality,
      { ...spec, model: source(spec.model), projector: source(spec.projector), processor: source(spec.processor) },
    ]),
  );
  return {
    ...config,
    model: { languageModel: source(config.model.languageModel), encoders },
    tokenizer: at(config.tokenizer),
    data: { ...config.data, train: at(config.data.train), eval: config.data.eval === undefined ? undefined : at(config.data.eval) },
    output: at(config.output),
  };
}
