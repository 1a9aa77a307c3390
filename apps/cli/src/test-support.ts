// Helpers for the command-line tests; nothing in the package entry points imports this file.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "./run-cli";

export const EXAMPLES = resolve(dirname(fileURLToPath(import.meta.url)), "../../../examples");
export const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), "../test-fixtures");

/** Runs `mm` in this process and collects its exit status and output lines. */
export async function cli(...argv: string[]): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runCli(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { status, out, err };
}

/** Reads the example config with absolute paths and its output in `folder`. */
export function readExampleConfig(folder: string, example = "vlm"): Record<string, any> {
  const config = JSON.parse(readFileSync(join(EXAMPLES, example, "config.json"), "utf8"));
  config.tokenizer = join(EXAMPLES, example, config.tokenizer);
  config.data.train = join(EXAMPLES, example, config.data.train);
  config.output = join(folder, "output");
  return config;
}

/** Writes the example config with absolute paths, changed by `change`, to a temporary folder; returns its path. */
export function exampleConfig(change: (config: Record<string, any>, folder: string) => void = () => {}, example = "vlm"): string {
  const folder = mkdtempSync(join(tmpdir(), "mm-cli-"));
  const config = readExampleConfig(folder, example);
  change(config, folder);
  const path = join(folder, "config.json");
  writeFileSync(path, JSON.stringify(config));
  return path;
}
