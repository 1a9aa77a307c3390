// Loads the built @mm/* packages by relative path, because bench/ is not a pnpm workspace
// package and so has no node_modules of its own. Run `npx tsup` in a package folder when its
// dist/ is older than its src/.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

export * as core from "../../packages/core/dist/index.js";
export * as models from "../../packages/models/dist/index.js";
export * as trainer from "../../packages/trainer/dist/index.js";

/** Loads @mm/processor, which only the preprocessing benchmark needs. */
export async function loadProcessor() {
  return import("../../packages/processor/dist/index.js");
}

// @tensorflow/tfjs has no "exports" map, so ESM and require() both resolve it to its "main" file.
// Resolving it from @mm/core therefore yields the module instance that the packages use, with
// the same engine, backends and tensor registry.
const requireFromCore = createRequire(new URL("../../packages/core/package.json", import.meta.url));

/** The @tensorflow/tfjs module that @mm/core uses. */
export const tf = await import(pathToFileURL(requireFromCore.resolve("@tensorflow/tfjs")).href);

/** Reads the version field of a package that @mm/core depends on, e.g. "@tensorflow/tfjs". */
export function dependencyVersion(name) {
  return requireFromCore(`${name}/package.json`).version;
}
