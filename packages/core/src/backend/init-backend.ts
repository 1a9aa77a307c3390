import * as tf from "@tensorflow/tfjs";
import { ConfigError } from "../errors/errors";
import { getLogger } from "../logging/logger";
import { findNativePackage } from "./native-addon";

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
  wasm?: { simd: boolean; threads: number; multithreadSupported: boolean };
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
 * same request returns the first report.
 */
export async function initBackend(request: BackendRequest = backendFromEnvironment()): Promise<BackendReport> {
  if (activeReport !== undefined && activeReport.requested === request) return activeReport;
  tf.enableProdMode();
  const attempts: BackendAttempt[] = [];
  const candidates = candidatesFor(request);
  for (const candidate of candidates) {
    const attempt = await tryBackend(candidate);
    attempts.push(attempt);
    if (attempt.status === "used") {
      activeReport = { requested: request, backend: tf.getBackend(), attempts, tfjsVersion: tf.version.tfjs };
      if (attempt.backend === "wasm") activeReport.wasm = await wasmSettings();
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

async function tryBackend(candidate: Candidate): Promise<BackendAttempt> {
  try {
    if (candidate.backend === "tensorflow") return await tryNative(candidate);
    if (candidate.backend === "wasm") await import("@tensorflow/tfjs-backend-wasm");
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

async function wasmSettings(): Promise<BackendReport["wasm"]> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  return {
    simd: tf.env().getBool("WASM_HAS_SIMD_SUPPORT"),
    multithreadSupported: tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT"),
    threads: wasm.getThreadsCount(),
  };
}
