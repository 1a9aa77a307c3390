import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { InputError } from "@mm/core";

/**
 * Reads an image or audio file into memory. A missing or unreadable file is an InputError that
 * names the path (and where a relative path resolved to) and what to check; `kind` is "image" or
 * "audio".
 */
export async function readMediaFile(path: string, kind: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const displayPath = isAbsolute(path) ? path : `${path} (resolved to ${resolve(path)})`;
    if (code === "ENOENT") {
      throw new InputError(`${kind} file not found: ${displayPath}; check the path in your dataset (paths are relative to the dataset file)`, path);
    }
    throw new InputError(`cannot read ${kind} file ${displayPath}: ${(error as Error).message}`, path);
  }
}
