import { ConfigError } from "@mm/core";

/**
 * Typed reads of `config.json` fields. A present field of the wrong type, or an absent field
 * with no default, is a ConfigError naming the file and key.
 */
export class ConfigReader {
  constructor(
    readonly config: Record<string, unknown>,
    readonly source: string,
  ) {}

  number(key: string, fallback?: number): number {
    const value = this.config[key] ?? fallback;
    if (typeof value !== "number" || !Number.isFinite(value)) throw this.invalid(key, "a number", value);
    return value;
  }

  integer(key: string, fallback?: number): number {
    const value = this.number(key, fallback);
    if (!Number.isInteger(value)) throw this.invalid(key, "an integer", value);
    return value;
  }

  string(key: string, fallback?: string): string {
    const value = this.config[key] ?? fallback;
    if (typeof value !== "string") throw this.invalid(key, "a string", value);
    return value;
  }

  boolean(key: string, fallback?: boolean): boolean {
    const value = this.config[key] ?? fallback;
    if (typeof value !== "boolean") throw this.invalid(key, "true or false", value);
    return value;
  }

  /** A nested object such as `vision_config`; absent gives `{}`. */
  object(key: string): Record<string, unknown> {
    const value = this.config[key] ?? {};
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw this.invalid(key, "an object", value);
    return value as Record<string, unknown>;
  }

  private invalid(key: string, expected: string, value: unknown): ConfigError {
    const found = value === undefined ? "it is missing" : `got ${JSON.stringify(value)}`;
    return new ConfigError(`${this.source}: "${key}" must be ${expected}, ${found}`, key, this.source);
  }
}
