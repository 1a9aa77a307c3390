import { existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { ConfigError } from "@mm/core";
import type { z } from "zod";
import { applyConfigOverrides, type ConfigOverride } from "./config-overrides";
import { isHubModelId } from "./model-references";
import { readConfigFile } from "./read-config-file";
import { trainConfigSchema, type TrainConfig } from "./train-config";

/** Options of {@link loadTrainConfig}. */
export interface LoadTrainConfigOptions {
  /** Changes applied in order before validation (see parseConfigOverride), e.g. from `mm train --set`. */
  overrides?: readonly ConfigOverride[];
}

/**
 * Reads, validates and resolves a `mm train` config file: YAML for `.yaml` and `.yml`, JSON
 * otherwise. Every problem is a ConfigError whose one-line message names the file, the key, the
 * value and what is allowed. Relative paths inside the config, those set by overrides included,
 * are resolved against the config file's folder. A model reference (see resolveModelReferences)
 * that is not an existing local path and reads as `org/name[@revision]` is kept as a Hub id.
 *
 * @example
 * const config = loadTrainConfig("train.yaml", { overrides: [parseConfigOverride("training.steps=10")] });
 */
export function loadTrainConfig(path: string, options: LoadTrainConfigOptions = {}): TrainConfig {
  const raw = readConfigFile(path);
  return resolvePaths(parseTrainConfig(raw, path, options.overrides), dirname(resolve(path)));
}

/**
 * Applies `overrides` to a parsed config object and validates it; `source` names it in errors.
 * An error about a key that an override set also names that override.
 */
export function parseTrainConfig(raw: unknown, source: string, overrides: readonly ConfigOverride[] = []): TrainConfig {
  const changed = applyConfigOverrides(raw, overrides, source);
  const result = trainConfigSchema.safeParse(changed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const origin = overrideOf(issue, overrides);
    throw new ConfigError(`${source}: ${describeIssue(issue, changed)}${origin === undefined ? "" : ` (from ${origin.label})`}`, issue.path.join("."), source);
  }
  return result.data;
}

/** Returns the last override whose key contains the issue's key or lies inside it. */
function overrideOf(issue: z.core.$ZodIssue, overrides: readonly ConfigOverride[]): ConfigOverride | undefined {
  const issuePaths = issue.code === "unrecognized_keys" ? issue.keys.map((key) => [...issue.path.map(String), key]) : [issue.path.map(String)];
  const nested = (outer: readonly string[], inner: readonly string[]) => outer.every((part, index) => inner[index] === part);
  return [...overrides].reverse().find((override) => issuePaths.some((path) => nested(path, override.path) || nested(override.path, path)));
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
  // A model reference stays a Hub id only when no local path of that name exists.
  const reference = (path: string) => (isAbsolute(path) || existsSync(resolve(base, path)) || !isHubModelId(path) ? at(path) : path);
  const source = <T extends { path?: string }>(s: T, resolvePath = reference): T => (s.path === undefined ? s : { ...s, path: resolvePath(s.path) });
  const encoders = Object.fromEntries(
    Object.entries(config.model.encoders).map(([modality, spec]) => [
      modality,
      { ...spec, model: source(spec.model), projector: source(spec.projector, at), processor: source(spec.processor) },
    ]),
  );
  return {
    ...config,
    model: { languageModel: source(config.model.languageModel), encoders },
    tokenizer: reference(config.tokenizer),
    data: { ...config.data, train: at(config.data.train), eval: config.data.eval === undefined ? undefined : at(config.data.eval) },
    output: at(config.output),
  };
}
