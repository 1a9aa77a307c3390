import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { MAX_WASM_THREADS, parseWasmThreads } from "../src/backend/wasm-threads";

const CHILD = fileURLToPath(new URL("./wasm-threads-child.mjs", import.meta.url));

interface ChildOutput {
  wasm: { simd: boolean; threads: number; threadedBuild: boolean };
  product: number[];
  transposedProduct: number[];
  gradX: number[];
  gradW: number[];
}

/** Runs the child script in a new Node process; a process that does not exit by itself fails the test. */
function runChild(environment: Record<string, string>): { output: ChildOutput; stderr: string } {
  const result = spawnSync(process.execPath, [CHILD], {
    env: { ...process.env, ...environment },
    encoding: "utf8",
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(result.error, `the child did not exit by itself within 60 s; stderr: ${result.stderr}`).toBeUndefined();
  expect(result.status, result.stderr).toBe(0);
  return { output: JSON.parse(result.stdout) as ChildOutput, stderr: result.stderr };
}

describe("parseWasmThreads", () => {
  it("accepts 1 to the pool size", () => {
    expect(parseWasmThreads("1", "MM_WASM_THREADS")).toBe(1);
    expect(parseWasmThreads(MAX_WASM_THREADS, "wasmThreads")).toBe(MAX_WASM_THREADS);
  });

  it.each(["0", "9", "two", "1.5", "-2", "1e0", "0x2", "+2", " 2"])("rejects %j", (value) => {
    expect(() => parseWasmThreads(value, "MM_WASM_THREADS")).toThrow(
      `MM_WASM_THREADS: invalid WASM thread count "${value}"; use an integer from 1 to 8`,
    );
  });
});

describe("MM_WASM_THREADS", () => {
  it("stops the start when invalid", () => {
    const result = spawnSync(process.execPath, [CHILD], { env: { ...process.env, MM_WASM_THREADS: "all" }, encoding: "utf8", timeout: 60_000 });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('MM_WASM_THREADS: invalid WASM thread count "all"; use an integer from 1 to 8');
  });
});

describe("threaded WASM build", () => {
  const single = runChild({ MM_WASM_THREADS: "1" });

  it("runs the single-threaded build for one thread", () => {
    expect(single.output.wasm).toEqual({ simd: true, threads: 1, threadedBuild: false });
  });

  it.each([2, 3])("runs %i threads with results equal to one thread", (threads) => {
    const temporaryFolder = mkdtempSync(join(tmpdir(), "mm-wasm-threads-test-"));
    const { output } = runChild({ MM_WASM_THREADS: String(threads), TMPDIR: temporaryFolder });
    expect(output.wasm).toEqual({ simd: true, threads, threadedBuild: true });
    expect(readdirSync(temporaryFolder), "the worker script's folder is removed").toEqual([]);
    for (const name of ["product", "transposedProduct", "gradX", "gradW"] as const) {
      expect(output[name], name).toEqual(single.output[name]);
    }
  });

  it("falls back to one thread when its module fails to instantiate", () => {
    const temporaryFolder = mkdtempSync(join(tmpdir(), "mm-wasm-threads-test-"));
    const { output, stderr } = runChild({ MM_WASM_THREADS: "2", TMPDIR: temporaryFolder, FAIL_THREADED_INSTANTIATION: "1" });
    expect(output.wasm).toEqual({ simd: true, threads: 1, threadedBuild: false });
    expect(stderr).toContain("the threaded WASM build failed to start (instantiation failed on purpose); using the single-threaded build");
    expect(stderr).not.toContain("worker sent an error");
    expect(output.product).toEqual(single.output.product);
    expect(readdirSync(temporaryFolder), "the worker script's folder is removed").toEqual([]);
  });

  it("falls back to one thread when its worker script cannot be written", () => {
    const { output, stderr } = runChild({ MM_WASM_THREADS: "2", TMPDIR: "/nonexistent/mm-wasm-threads" });
    expect(output.wasm).toEqual({ simd: true, threads: 1, threadedBuild: false });
    expect(stderr).toMatch(/the threaded WASM build failed to start \(.*ENOENT.*\); using the single-threaded build/);
    expect(output.product).toEqual(single.output.product);
  });
});
