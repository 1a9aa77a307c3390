import { ConfigError } from "@mm/core";
import type { ModelFactory, PretrainedModel } from "./pretrained-model";

const factories = new Map<string, ModelFactory>();
const architectureTypes = new Map<string, string>();

/**
 * Registers a model family under its `model_type` and the `architectures` class names that map
 * to it (e.g. "LlamaForCausalLM" -> "llama").
 */
export function registerModelFamily(modelType: string, factory: ModelFactory, architectures: string[] = []): void {
  factories.set(modelType, factory);
  for (const architecture of architectures) architectureTypes.set(architecture, modelType);
}

export function registeredModelTypes(): string[] {
  return [...factories.keys()].sort();
}

/**
 * Builds a model with random weights from a parsed `config.json`, choosing the family by
 * `model_type`, else by the first known entry of `architectures`.
 */
export function createModelFromConfig(config: Record<string, unknown>, source = "config.json"): PretrainedModel {
  const modelType = resolveModelType(config);
  const factory = modelType === undefined ? undefined : factories.get(modelType);
  if (factory === undefined) {
    const named = JSON.stringify(config.model_type ?? config.architectures ?? null);
    throw new ConfigError(
      `${source}: unsupported model_type ${named}; supported: ${registeredModelTypes().join(", ")}`,
      "model_type",
      source,
    );
  }
  return factory(config, source);
}

function resolveModelType(config: Record<string, unknown>): string | undefined {
  if (typeof config.model_type === "string" && factories.has(config.model_type)) return config.model_type;
  const architectures = Array.isArray(config.architectures) ? config.architectures : [];
  for (const architecture of architectures) {
    const modelType = architectureTypes.get(String(architecture));
    if (modelType !== undefined) return modelType;
  }
  return typeof config.model_type === "string" ? config.model_type : undefined;
}
