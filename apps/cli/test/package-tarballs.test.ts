import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

// Each @mm/* package must install from its tarball with plain npm (next to the tarballs of the
// @mm/* packages it depends on) and run the example in its README.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const PACKAGES: Array<{ name: string; folder: string; dependsOn: string[] }> = [
  { name: "@mm/core", folder: "packages/core", dependsOn: [] },
  { name: "@mm/models", folder: "packages/models", dependsOn: ["@mm/core"] },
  { name: "@mm/processor", folder: "packages/processor", dependsOn: ["@mm/core"] },
  { name: "@mm/trainer", folder: "packages/trainer", dependsOn: ["@mm/core", "@mm/models", "@mm/processor"] },
  { name: "@mm/cli", folder: "apps/cli", dependsOn: ["@mm/core", "@mm/models", "@mm/processor", "@mm/trainer"] },
];

const tarballs = new Map<string, string>();
const work = mkdtempSync(join(tmpdir(), "mm-pack-"));

const execFileAsync = promisify(execFile);
const npmEnv = { ...process.env, npm_config_loglevel: "error" };

function projectFolder(name: string): string {
  return join(work, name.replace("/", "-"));
}

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: npmEnv });
}

/** The first ```js block (or ```sh command) of a package README. */
function readmeExample(folder: string): { kind: "js" | "sh"; code: string } {
  const readme = readFileSync(join(ROOT, folder, "README.md"), "utf8");
  const match = /```(js|sh)\n([\s\S]*?)```/.exec(readme);
  if (match === null) throw new Error(`${folder}/README.md has no js or sh example`);
  return { kind: match[1] as "js" | "sh", code: match[2] };
}

beforeAll(async () => {
  const destination = join(work, "tarballs");
  mkdirSync(destination);
  for (const { name, folder } of PACKAGES) {
    const before = new Set(readdirSync(destination));
    run("npx", ["--yes", "pnpm@10.34.9", "pack", "--pack-destination", destination], join(ROOT, folder));
    tarballs.set(name, join(destination, readdirSync(destination).find((file) => !before.has(file))!));
  }
  // The five installs run at once: most of their time is spent waiting on the registry.
  await Promise.all(
    PACKAGES.map(async ({ name, dependsOn }) => {
      const project = projectFolder(name);
      mkdirSync(project);
      writeFileSync(join(project, "package.json"), JSON.stringify({ name: "try-mm", private: true, type: "module" }));
      const files = [...dependsOn, name].map((n) => tarballs.get(n)!);
      await execFileAsync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...files], { cwd: project, env: npmEnv });
    }),
  );
}, 600_000);

describe.each(PACKAGES)("$name tarball", ({ name, folder }) => {
  it("installs with npm and runs its README example", () => {
    const project = projectFolder(name);
    const example = readmeExample(folder);
    let output: string;
    if (example.kind === "js") {
      writeFileSync(join(project, "example.mjs"), example.code);
      output = run("node", ["example.mjs"], project);
    } else {
      const [command, ...args] = example.code.trim().split(/\s+/);
      output = run(command, args, project);
    }
    expect(output.trim().length).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(join(project, "node_modules", ...name.split("/"), "package.json"), "utf8"));
    expect(JSON.stringify(manifest.dependencies ?? {})).not.toContain("workspace:");
  }, 60_000);
});
