import { ConfigError } from "@mm/core";

/** One `key=value` change to a config, applied before validation. */
export interface ConfigOverride {
  /** The dotted key split at its dots: `training.steps` is ["training", "steps"]. */
  readonly path: readonly string[];
  /** The parsed value; null removes the key. */
  readonly value: unknown;
  /** The override as written, for messages, e.g. `--set training.steps=10`. */
  readonly label: string;
}

type Container = Record<string, unknown> | unknown[];

/**
 * Parses `key=value`. The key is a dotted path into the config (`model.encoders.vision.token`;
 * an array element is addressed by its index). The value is parsed as JSON when it is valid JSON
 * (numbers, true, false, null, arrays, objects, quoted strings) and kept as a string otherwise, so
 * `10` is a number and `"10"` (with the quotes) a string. `origin` starts the label, e.g. "--set".
 *
 * @throws ConfigError when there is no `=` or the key has an empty part.
 */
export function parseConfigOverride(text: string, origin = "override"): ConfigOverride {
  const label = `${origin} ${text}`;
  const separator = text.indexOf("=");
  if (separator <= 0) throw new ConfigError(`${label}: expected KEY=VALUE, e.g. training.steps=10`);
  const key = text.slice(0, separator);
  const path = key.split(".");
  if (path.includes("")) throw new ConfigError(`${label}: the key "${key}" has an empty part; write a dotted path such as training.steps`, key);
  return { path, value: parseValue(text.slice(separator + 1)), label };
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Returns a copy of `raw` (plain data, as JSON or YAML parsing returns) with each override
 * applied in order. Objects missing on the way to a key are created, so an override can add a
 * section; a value of null removes the key. The schema then validates the result, so a misspelled
 * key is reported as unknown there. `source` names the config in errors.
 *
 * @throws ConfigError when the config is not an object, a key runs through a value that is not an
 *   object or array, or an array index is out of range.
 */
export function applyConfigOverrides(raw: unknown, overrides: readonly ConfigOverride[], source: string): unknown {
  if (overrides.length === 0) return raw;
  if (!isContainer(raw) || Array.isArray(raw)) {
    throw new ConfigError(`${source}: the config is ${JSON.stringify(raw)}, not an object, so ${overrides[0].label} cannot be applied`, undefined, source);
  }
  const root = structuredClone(raw);
  for (const override of overrides) applyOne(root, override, source);
  return root;
}

function applyOne(root: Container, override: ConfigOverride, source: string): void {
  const { path } = override;
  let container = root;
  for (let depth = 0; depth < path.length - 1; depth++) {
    const fail = (reason: string) => new ConfigError(`${source}: ${override.label}: ${reason}`, path.slice(0, depth + 1).join("."), source);
    let next = readOwn(container, path[depth], fail);
    if (next === undefined) {
      next = {};
      writeOwn(container, path[depth], next, fail);
    }
    if (!isContainer(next)) {
      throw fail(`"${path.slice(0, depth + 1).join(".")}" is ${JSON.stringify(next)}, not an object, so it has no key "${path[depth + 1]}"`);
    }
    container = next;
  }
  const fail = (reason: string) => new ConfigError(`${source}: ${override.label}: ${reason}`, path.join("."), source);
  if (override.value === null) removeOwn(container, path[path.length - 1], fail);
  else writeOwn(container, path[path.length - 1], structuredClone(override.value), fail);
}

function isContainer(value: unknown): value is Container {
  return typeof value === "object" && value !== null;
}

/** Reads an own property only, so keys such as `__proto__` never reach the prototype. */
function readOwn(container: Container, key: string, fail: (reason: string) => ConfigError): unknown {
  if (Array.isArray(container)) return container[arrayIndex(container, key, fail)];
  return Object.hasOwn(container, key) ? container[key] : undefined;
}

/** Defines an own property, so `__proto__` becomes an ordinary (and then unknown) key. */
function writeOwn(container: Container, key: string, value: unknown, fail: (reason: string) => ConfigError): void {
  const target = Array.isArray(container) ? arrayIndex(container, key, fail) : key;
  Object.defineProperty(container, target, { value, enumerable: true, writable: true, configurable: true });
}

function removeOwn(container: Container, key: string, fail: (reason: string) => ConfigError): void {
  if (Array.isArray(container)) throw fail("null cannot remove an array element; set the whole array instead, e.g. KEY=[1,2]");
  delete container[key];
}

function arrayIndex(array: unknown[], key: string, fail: (reason: string) => ConfigError): number {
  const index = /^\d+$/.test(key) ? Number(key) : -1;
  if (index < 0 || index >= array.length) {
    const allowed = array.length === 0 ? "the array is empty" : `use 0 to ${array.length - 1}`;
    throw fail(`"${key}" is not an index of the ${array.length}-element array there (${allowed}); set the whole array instead, e.g. KEY=[1,2]`);
  }
  return index;
}
