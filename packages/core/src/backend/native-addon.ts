import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";


/** Outcome of looking for an optional native tfjs package. */
export type NativePackageStatus =
  | { found: true; directory: string; addon: string }
  | { found: false; reason: string };

/**
 * Checks that a native tfjs package is installed and that its compiled addon exists.
 *
 * The install script of tfjs-node and tfjs-node-gpu downloads libtensorflow; when that download
 * fails the package stays linked without `lib/<napi>/tfjs_binding.node`, and importing it both
 * throws and half-registers kernels. So the addon file is checked before any import.
 * `resolveFrom` is the file or URL that module resolution starts from (default: this module).
 */
export function findNativePackage(packageName: string, resolveFrom: string = import.meta.url): NativePackageStatus {
  let directory: string;
  try {
    directory = dirname(createRequire(resolveFrom).resolve(`${packageName}/package.json`));
  } catch {
    return { found: false, reason: `${packageName} is not installed` };
  }
  const libDirectory = join(directory, "lib");
  const addon = existsSync(libDirectory)
    ? readdirSync(libDirectory)
        .map((entry) => join(libDirectory, entry, "tfjs_binding.node"))
        .find((path) => existsSync(path))
    : undefined;
  if (addon === undefined) {
    return {
      found: false,
      reason: `${packageName} is installed but its native addon (lib/*/tfjs_binding.node) is missing; its install script could not download libtensorflow`,
    };
  }
  return { found: true, directory, addon };
}
