import { dirname, isAbsolute, resolve } from "node:path";

/**
 * Reads a media field that is a path or a list of paths, resolved against the dataset file's
 * folder. Returns undefined when the field is neither, so the caller can name it in an error.
 */
export function readMediaPaths(value: unknown, datasetFile: string): string[] | undefined {
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : [value];
  if (!items.every((item) => typeof item === "string" && item !== "")) return undefined;
  const base = dirname(resolve(datasetFile));
  return (items as string[]).map((item) => (isAbsolute(item) ? item : resolve(base, item)));
}
