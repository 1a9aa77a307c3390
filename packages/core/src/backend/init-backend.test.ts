import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { initBackend, parseBackendRequest } from "./init-backend";
import { setLogSink } from "../logging/logger";
import { findNativePackage } from "./native-addon";
import { wasmThreadsFromEnvironment } from "./wasm-threads";

/** A folder with node_modules/<name>/package.json and, optionally, the compiled addon. */
function fakeInstall(name: string, withAddon: boolean): string {
  const root = mkdtempSync(join(tmpdir(), "mm-native-"));
  const packageDirectory = join(root, "node_modules", name);
  mkdirSync(join(packageDirectory, "lib", "napi-v8"), { recursive: true });
  writeFileSync(join(packageDirectory, "package.json"), JSON.stringify({ name, version: "4.22.0" }));
  if (withAddon) writeFileSync(join(packageDirectory, "lib", "napi-v8", "tfjs_binding.node"), "");
  return join(root, "index.js");
}

describe("findNativePackage", () => {
  it("reports a package that is not installed", () => {
    expect(findNativePackage("@tensorflow/tfjs-node-gpu", fakeInstall("unrelated", false))).toEqual({
      found: false,
      reason: "@tensorflow/tfjs-node-gpu is not installed",
    });
  });

  it("reports an installed package whose addon download failed", () => {
    const status = findNativePackage("@tensorflow/tfjs-node", fakeInstall("@tensorflow/tfjs-node", false));
    expect(status.found).toBe(false);
    expect(!status.found && status.reason).toMatch(/native addon \(lib\/\*\/tfjs_binding.node\) is missing/);
  });

  it("finds the addon of a complete install", () => {
    const status = findNativePackage("@tensorflow/tfjs-node", fakeInstall("@tensorflow/tfjs-node", true));
    expect(status.found && status.addon).toMatch(/lib\/napi-v8\/tfjs_binding\.node$/);
  });
});

describe("initBackend", () => {
  it("falls back to WASM when no native package is installed", async () => {
    const report = await initBackend("auto");
    expect(report.backend).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(report.attempts.map((a) => [a.source, a.status])).toEqual([
      ["@tensorflow/tfjs-node-gpu", "skipped"],
      ["@tensorflow/tfjs-node", "skipped"],
      ["@tensorflow/tfjs-backend-wasm", "used"],
    ]);
    const threads = wasmThreadsFromEnvironment();
    expect(report.wasm).toEqual({ simd: true, threads, threadedBuild: threads > 1 });
  });

  it("starts the CPU backend on request", async () => {
    const report = await initBackend("cpu");
    expect(report.backend).toBe("cpu");
  });

  it("fails with the reasons when the tensorflow backend is requested but absent", async () => {
    await expect(initBackend("tensorflow")).rejects.toThrow(/no tfjs backend could start for "tensorflow": @tensorflow\/tfjs-node-gpu: .*not installed/);
  });

  it("warns when a later call requests other WASM threads", async () => {
    const report = await initBackend("wasm");
    const otherCount = report.wasm!.threads === 1 ? 2 : 1;
    const lines: string[] = [];
    const previous = setLogSink((level, _scope, message) => lines.push(`${level}: ${message}`));
    try {
      const again = await initBackend("wasm", { wasmThreads: otherCount });
      expect(again.wasm!.threads).toBe(report.wasm!.threads);
    } finally {
      setLogSink(previous);
    }
    expect(lines).toEqual([
      `warn: the WASM backend already runs ${report.wasm!.threads} thread(s) in this process; the request for ${otherCount} is ignored`,
    ]);
  });

  it("rejects an invalid WASM thread count", async () => {
    await expect(initBackend("wasm", { wasmThreads: 0 })).rejects.toThrow('wasmThreads: invalid WASM thread count "0"; use an integer from 1 to 8');
  });

  it("rejects an unknown backend name", () => {
    expect(() => parseBackendRequest("cuda", "--backend")).toThrow('--backend: invalid backend "cuda"; use one of auto, tensorflow, wasm, cpu');
  });
});
