import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "tsup";

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Bundles `src/test-support/<name>.ts` (with the trainer's sources, but not its dependencies)
 * into an ES module that plain `node` runs, and returns its path. The bundle goes under this
 * package's node_modules so that node finds @mm/core and the other dependencies from there.
 */
export async function bundleTestScript(name: string): Promise<string> {
  const outDir = join(PACKAGE, "node_modules", ".cache", "mm-trainer-tests");
  await build({
    entry: { [name]: join(PACKAGE, "src", "test-support", `${name}.ts`) },
    outDir,
    format: ["esm"],
    platform: "node",
    target: "node20",
    config: false,
    dts: false,
    clean: false,
    silent: true,
    skipNodeModulesBundle: true,
  });
  return join(outDir, `${name}.js`);
}
