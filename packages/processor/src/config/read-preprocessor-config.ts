import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "@mm/core";

/**
 * Reads a preprocessor_config.json given as the file itself or the model folder that contains it.
 * `kind` names the processor in errors ("image processor", "feature extractor").
 * @throws ConfigError naming the file when it cannot be read or is not valid JSON.
 */
export async function readPreprocessorConfig(path: string, kind: string): Promise<{ raw: unknown; file: string }> {
  let file = path;
  let text: string;
  try {
    if ((await stat(path)).isDirectory()) file = join(path, "preprocessor_config.json");
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError(
      `cannot read ${kind} config ${file}: ${(error as Error).message}; pass a ` +
        `preprocessor_config.json file or the model folder that contains it`,
      undefined,
      file,
    );
  }
  try {
    return { raw: JSON.parse(text) as unknown, file };
  } catch (error) {
    throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`, undefined, file);
  }
}
