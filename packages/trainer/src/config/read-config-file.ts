import { existsSync, readFileSync } from "node:fs";
import { extname } from "node:path";
import { ConfigError, getLogger } from "@mm/core";
import { parseDocument, YAMLParseError } from "yaml";

const log = getLogger("trainer.config");

/** File extensions read as YAML; every other config file is read as JSON. */
const YAML_EXTENSIONS = new Set([".yaml", ".yml"]);

/**
 * Reads a config file as plain data: YAML 1.2 (the `yaml` package's core schema) for `.yaml` and
 * `.yml`, JSON for any other name. A missing file or a syntax error is a ConfigError naming the
 * file; YAML errors also give the line and column.
 */
export function readConfigFile(path: string): unknown {
  if (!existsSync(path)) throw new ConfigError(`config file not found: ${path}; pass the path of a JSON or YAML config`, undefined, path);
  const text = readFileSync(path, "utf8");
  return YAML_EXTENSIONS.has(extname(path).toLowerCase()) ? parseYaml(text, path) : parseJson(text, path);
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: invalid JSON: ${(error as Error).message}`, undefined, path);
  }
}

function parseYaml(text: string, path: string): unknown {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const [error] = document.errors;
  if (error !== undefined) throw yamlSyntaxError(error, path);
  for (const warning of document.warnings) log.warn(`${path}: ${firstLine(warning.message)}`);
  try {
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // toJS fails on an alias without its anchor and on alias expansions past maxAliasCount.
    throw new ConfigError(`${path}: invalid YAML: ${(error as Error).message}`, undefined, path);
  }
}

function yamlSyntaxError(error: YAMLParseError, path: string): ConfigError {
  const position = error.linePos?.[0];
  const where = position === undefined ? path : `${path}:${position.line}:${position.col}`;
  const reason = error.code === "MULTIPLE_DOCS" ? "the file holds more than one YAML document (a second ---); a config is one document" : firstLine(error.message);
  return new ConfigError(`${where}: invalid YAML: ${reason}`, undefined, path);
}

/** Returns the first line of a message, without the position that `prettyErrors` appends. */
function firstLine(message: string): string {
  return message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}
