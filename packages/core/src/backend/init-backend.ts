import * as tf from "@tensorflow/tfjs";
import { ConfigError } from "../errors/errors";
import { getLogger } from "../logging/logger";
import { findNativePackage } from "./native-addon";
import { parseWasmThreads, registerThreadedWasm, wasmBackendStarted, wasmThreadsFromEnvironment } from "./wasm-threads";

const log = getLogger("backend");

export type BackendRequest = "auto" | "tensorflow" | "wasm" | "cpu";
export const BACKEND_REQUESTS: readonly BackendRequest[] = ["auto", "tensorflow", "wasm", "cpu"];

/** One backend that `initBackend` considered, and why it was or was not used. */
export interface BackendAttempt {
  backend: "tensorflow" | "wasm" | "cpu";
  source: string;
  status: "used" | "skipped" | "failed";
  reason?: string;
}

/** What `initBackend` chose; `mm doctor` prints it. */
export interface BackendReport {
  requested: BackendRequest;
  backend: string;
  attempts: BackendAttempt[];
  tfjsVersion: string;
  /** Present when the WASM backend runs; `threadedBuild` is true when tfjs's threaded SIMD build runs. */
  wasm?: { simd: boolean; threads: number; threadedBuild: boolean };
}

export interface BackendOptions {
  /**
   * Threads for the WASM backend, 1 to 8 (default: `MM_WASM_THREADS`, else one per logical CPU, at
   * most 8). 1 runs tfjs's single-threaded build. The first WASM start in a process fixes it.
   */
  wasmThreads?: number;
}

let activeReport: BackendReport | undefined;

/** Reads the backend request from `MM_BACKEND`, defaulting to "auto". */
export function backendFromEnvironment(): BackendRequest {
  return parseBackendRequest(process.env.MM_BACKEND ?? "auto", "MM_BACKEND");
}

export function parseBackendRequest(value: string, source: string): BackendRequest {
  if ((BACKEND_REQUESTS as readonly string[]).includes(value)) return value as BackendRequest;
  throw new ConfigError(
    `${source}: invalid backend "${value}"; use one of ${BACKEND_REQUESTS.join(", ")}`,
    source,
  );
}

/**
 * Selects and initialises the tfjs backend.
 *
 * "auto" tries `@tensorflow/tfjs-node-gpu` (CUDA), then `@tensorflow/tfjs-node`, then WASM, then the
 * pure-JS CPU backend. A named backend that cannot start is an error. Calling it again with the
 * same request returns the first report. WASM runs tfjs's threaded build when more than one
 * thread is requested, and falls back to the single-threaded build with a warning when that
 * build cannot start.
 */
export async function initBackend(request: BackendRequest = backendFromEnvironment(), options: BackendOptions = {}): Promise<BackendReport> {
  if (options.wasmThreads !== undefined) parseWasmThreads(options.wasmThreads, "wasmThreads");
  if (activeReport !== undefined && activeReport.requested === request) {
    warnIfThreadsDiffer(activeReport, options.wasmThreads);
    return activeReport;
  }
  tf.enableProdMode();
  const attempts: BackendAttempt[] = [];
  const candidates = candidatesFor(request);
  for (const candidate of candidates) {
    const attempt = await tryBackend(candidate, options);
    attempts.push(attempt);
    if (attempt.status === "used") {
      activeReport = { requested: request, backend: tf.getBackend(), attempts, tfjsVersion: tf.version.tfjs };
      if (attempt.backend === "wasm") {
        activeReport.wasm = await wasmSettings();
        warnIfThreadsDiffer(activeReport, options.wasmThreads);
      }
      log.debug(`using the ${activeReport.backend} backend`);
      return activeReport;
    }
  }
  const reasons = attempts.map((a) => `${a.source}: ${a.reason}`).join("; ");
  throw new ConfigError(`no tfjs backend could start for "${request}": ${reasons}`, "backend");
}

/** Returns the report of the last successful `initBackend`, if any. */
export function backendReport(): BackendReport | undefined {
  return activeReport;
}

type Candidate = { backend: "tensorflow" | "wasm" | "cpu"; source: string };

function candidatesFor(request: BackendRequest): Candidate[] {
  const native: Candidate[] = [
    { backend: "tensorflow", source: "@tensorflow/tfjs-node-gpu" },
    { backend: "tensorflow", source: "@tensorflow/tfjs-node" },
  ];
  const wasm: Candidate = { backend: "wasm", source: "@tensorflow/tfjs-backend-wasm" };
  const cpu: Candidate = { backend: "cpu", source: "@tensorflow/tfjs (pure JavaScript)" };
  if (request === "tensorflow") return native;
  if (request === "wasm") return [wasm];
  if (request === "cpu") return [cpu];
  return [...native, wasm, cpu];
}

async function tryBackend(candidate: Candidate, options: BackendOptions): Promise<BackendAttempt> {
  // Read outside the try below, so that an invalid thread count is an error, not a skipped backend.
  const wasmThreads = candidate.backend === "wasm" ? options.wasmThreads ?? wasmThreadsFromEnvironment() : 1;
  try {
    if (candidate.backend === "tensorflow") return await tryNative(candidate);
    if (candidate.backend === "wasm") {
      await import("@tensorflow/tfjs-backend-wasm");
      if (wasmThreads > 1 && !wasmBackendStarted() && (await startThreadedWasm(wasmThreads))) return { ...candidate, status: "used" };
    }
    const ok = await tf.setBackend(candidate.backend);
    await tf.ready();
    if (!ok) return { ...candidate, status: "failed", reason: "tf.setBackend returned false" };
    return { ...candidate, status: "used" };
  } catch (error) {
    return { ...candidate, status: "failed", reason: (error as Error).message.split("\n")[0] };
  }
}

async function tryNative(candidate: Candidate): Promise<BackendAttempt> {
  if (tf.findBackend("tensorflow") === null) {
    const status = findNativePackage(candidate.source);
    if (!status.found) return { ...candidate, status: "skipped", reason: status.reason };
    await import(candidate.source);
  }
  const ok = await tf.setBackend("tensorflow");
  await tf.ready();
  return ok ? { ...candidate, status: "used" } : { ...candidate, status: "failed", reason: "tf.setBackend returned false" };
}

/** Warns when a thread count is requested after the WASM backend started with another one. */
function warnIfThreadsDiffer(report: BackendReport, requested: number | undefined): void {
  if (requested === undefined || report.wasm === undefined || report.wasm.threads === requested) return;
  log.warn(`the WASM backend already runs ${report.wasm.threads} thread(s) in this process; the request for ${requested} is ignored`);
}

/** Starts tfjs's threaded WASM build; on failure, logs why and restores the single-threaded one. */
async function startThreadedWasm(threads: number): Promise<boolean> {
  if (!(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"))) {
    log.warn(`${threads} WASM threads requested, but this Node.js has no WASM SIMD, which the threaded build needs; using 1 thread`);
    return false;
  }
  const registration = await registerThreadedWasm(threads);
  let error: Error | undefined;
  try {
    if (await tf.setBackend("wasm")) {
      await tf.ready();
      return true;
    }
  } catch (caught) {
    error = caught as Error;
  }
  registration.restoreSingleThreaded();
  const reason = (error ?? registration.startError())?.message.split("\n")[0] ?? "tf.setBackend returned false";
  log.warn(`the threaded WASM build failed to start (${reason}); using the single-threaded build. Set MM_WASM_THREADS=1 to skip it.`);
  return false;
}

async function wasmSettings(): Promise<BackendReport["wasm"]> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  return {
    simd: Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")),
    threadedBuild: tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT"),
    threads: wasm.getThreadsCount(),
  };
}
