import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { ConfigError } from "../errors/errors";

/**
 * Multithreaded WASM in Node.
 *
 * @tensorflow/tfjs-backend-wasm 4.22 ships a threaded SIMD build, with Emscripten pthreads on
 * worker threads and XNNPACK's thread pool for matMul and convolutions. tfjs starts it only in
 * browsers. In Node its `WASM_HAS_MULTITHREAD_SUPPORT` flag is false, and its loader gives the
 * pthread workers blob URLs, which Node's `worker_threads` cannot open. `registerThreadedWasm`
 * starts the same published build with a loader that Node can follow and registers it as the
 * "wasm" backend, so every WASM kernel runs on it unchanged.
 *
 * NOTE: the loader relies on tfjs-backend-wasm 4.22's file layout (wasm-out/) and Emscripten module
 * options, which this package pins. Another version may fail to start the threaded build, and
 * `initBackend` then falls back to the single-threaded build with a warning.
 */

/** Workers that the threaded build creates at start; its thread pool cannot grow beyond them. */
export const MAX_WASM_THREADS = 8;

/** Returns the default thread count: one per logical CPU, at most `MAX_WASM_THREADS`. */
export function defaultWasmThreads(): number {
  return Math.min(availableParallelism(), MAX_WASM_THREADS);
}

/** Reads the WASM thread count from `MM_WASM_THREADS`, defaulting to `defaultWasmThreads()`. */
export function wasmThreadsFromEnvironment(): number {
  const value = process.env.MM_WASM_THREADS;
  if (value === undefined || value === "") return defaultWasmThreads();
  return parseWasmThreads(value, "MM_WASM_THREADS");
}

export function parseWasmThreads(value: string | number, source: string): number {
  // Only plain decimal digits, so "1e0", "0x2" and " 2" are rejected rather than read as numbers.
  const threads = typeof value === "number" ? value : /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isInteger(threads) && threads >= 1 && threads <= MAX_WASM_THREADS) return threads;
  throw new ConfigError(
    `${source}: invalid WASM thread count "${value}"; use an integer from 1 to ${MAX_WASM_THREADS} (1 runs the single-threaded build)`,
    source,
  );
}

/** Reports whether this process has created the "wasm" backend, which fixes its thread count. */
export function wasmBackendStarted(): boolean {
  return "wasm" in tf.engine().registry;
}

type WasmFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

interface EmscriptenModule {
  cwrap: (name: string, returnType: string | null, argumentTypes: string[]) => (...args: number[]) => number;
  PThread: PThreadPool;
  tfjs?: Record<string, unknown>;
}

interface PThreadPool {
  runningWorkers: NodeWorker[];
  unusedWorkers: NodeWorker[];
}

interface NodeWorker {
  unref: () => void;
  terminate: () => Promise<number>;
}

/** The outcome handle of `registerThreadedWasm`. */
export interface ThreadedWasmRegistration {
  /** The error that stopped the threaded backend from starting, if it failed. */
  startError: () => Error | undefined;
  /** Registers tfjs's single-threaded build as the "wasm" backend again. */
  restoreSingleThreaded: () => void;
}

/**
 * Registers tfjs's threaded SIMD WASM build as the "wasm" backend with `threads` threads, to be
 * started by the next `tf.setBackend("wasm")`.
 */
export async function registerThreadedWasm(threads: number): Promise<ThreadedWasmRegistration> {
  const tfWasm = await import("@tensorflow/tfjs-backend-wasm");
  const standardFactory = tf.engine().findBackendFactory("wasm");
  const require = createRequire(import.meta.url);
  const mainScript = require.resolve("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js");
  const wasmBinary = join(dirname(mainScript), "tfjs-backend-wasm-threaded-simd.wasm");

  let startError: Error | undefined;
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", async () => {
    try {
      return await startThreadedBackend();
    } catch (error) {
      // tfjs turns a failed backend start into `setBackend` returning false, so keep the cause.
      startError = error as Error;
      throw error;
    }
  }, WASM_PRIORITY);
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);

  async function startThreadedBackend(): Promise<tf.KernelBackend> {
    const factory = require(mainScript) as WasmFactory;
    const compiled = await webAssembly.compile(readFileSync(wasmBinary));
    const workerFolder = mkdtempSync(join(tmpdir(), "mm-tfjs-wasm-"));
    const workerScript = writeWorkerScript(require, workerFolder);

    // Emscripten uses this object as the module, so it also receives the worker pool.
    const config: Record<string, unknown> & { PThread?: PThreadPool } = {
      // Workers load the main script by path; the default would be a blob URL.
      mainScriptUrlOrBlob: mainScript,
      locateFile: (path: string, prefix: string) => (path.endsWith(".worker.js") ? workerScript : prefix + path),
      // XNNPACK caps its pool at half the logical cores, assuming two hardware threads a core,
      // so the core count that the module reads is set to give exactly `threads`. Instantiating
      // synchronously lets Emscripten turn an error here into a rejected start.
      instantiateWasm: (imports: { env: Record<string, unknown> }, receiveInstance: (instance: object, module: object) => void) => {
        imports.env.emscripten_num_logical_cores = () => 2 * threads;
        const instance = new webAssembly.Instance(compiled, imports);
        receiveInstance(instance, compiled);
        return instance.exports;
      },
    };
    let module: EmscriptenModule;
    try {
      module = await factory(config);
    } catch (error) {
      // The factory creates its workers before it instantiates the module, and a failed start
      // leaves them running, so they are ended before their script is removed.
      await Promise.all((config.PThread?.unusedWorkers ?? []).map((worker) => worker.terminate()));
      throw error;
    } finally {
      // A started factory has resolved once all of its workers loaded the script, and tfjs starts
      // no more than them, so the file is no longer needed.
      rmSync(workerFolder, { recursive: true, force: true });
    }

    // The same C functions that tfjs's own loader wraps before it builds the backend.
    module.tfjs = {
      init: module.cwrap("init", null, []),
      initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
      getThreadsCount: module.cwrap("get_threads_count", "number", []),
      registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
      disposeData: module.cwrap("dispose_data", null, ["number"]),
      dispose: module.cwrap("dispose", null, []),
    };
    tfWasm.setThreadsCount(threads);
    const backend = new tfWasm.BackendWasm(module as unknown as ConstructorParameters<typeof tfWasm.BackendWasm>[0]);

    // Idle pool threads must not keep the process alive after the program's own work ends.
    for (const worker of [...module.PThread.runningWorkers, ...module.PThread.unusedWorkers]) worker.unref();
    return backend;
  }

  return {
    startError: () => startError,
    restoreSingleThreaded: () => {
      tf.removeBackend("wasm");
      tf.registerBackend("wasm", standardFactory, WASM_PRIORITY);
      tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    },
  };
}

/** Node's WebAssembly global, typed here because this package compiles without the DOM library. */
const webAssembly = (globalThis as unknown as {
  WebAssembly: {
    compile(bytes: Uint8Array): Promise<object>;
    Instance: new (module: object, imports: object) => { exports: object };
  };
}).WebAssembly;

/** tfjs-backend-wasm's own registration priority. */
const WASM_PRIORITY = 2;

/**
 * Writes the pthread worker script that tfjs-backend-wasm embeds as a string into `folder` and
 * returns its path, because Node's `Worker` needs a file. The folder is a new private one, so
 * other users of the temporary folder cannot replace the script that the workers run.
 */
function writeWorkerScript(require: NodeJS.Require, folder: string): string {
  const { wasmWorkerContents } = require("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js") as {
    wasmWorkerContents: string;
  };
  // The embedded string has real newlines inside the script's string literals; tfjs's browser
  // loader escapes them the same way before it makes the blob.
  const path = join(folder, "worker.cjs");
  writeFileSync(path, wasmWorkerContents.replace(/\n/g, "\\n"));
  return path;
}
