import { initBackend, parseBackendRequest, backendFromEnvironment } from "@mm/core";
import { parseCommandArgs } from "../parse-args";

export const DOCTOR_HELP = `Usage: mm doctor [--backend auto|tensorflow|wasm|cpu]

Prints the TensorFlow.js backend that mm would use, why each other backend was skipped, the
tfjs version and the WASM SIMD and thread settings. MM_WASM_THREADS sets the WASM threads, 1 to 8
(default: one per logical CPU, at most 8).

Options:
  --backend NAME   backend to try: auto, tensorflow, wasm or cpu (default: MM_BACKEND, else auto)
  -h, --help       show this help`;

export const DOCTOR_OPTIONS = { backend: { type: "string" } } as const;

/** Runs `mm doctor`; returns the exit status. */
export async function runDoctor(argv: string[], write: (line: string) => void): Promise<number> {
  const { values } = parseCommandArgs("doctor", argv, DOCTOR_OPTIONS, 0);
  const request = values.backend === undefined ? backendFromEnvironment() : parseBackendRequest(String(values.backend), "--backend");
  const report = await initBackend(request);
  write(`backend: ${report.backend} (requested: ${report.requested})`);
  write(`tfjs: ${report.tfjsVersion}`);
  write(`node: ${process.version} on ${process.platform}-${process.arch}`);
  for (const attempt of report.attempts) {
    write(`  ${attempt.status.padEnd(7)} ${attempt.backend.padEnd(10)} ${attempt.source}${attempt.reason === undefined ? "" : `: ${attempt.reason}`}`);
  }
  if (report.wasm !== undefined) {
    const build = report.wasm.threadedBuild ? "threaded build" : "single-threaded build";
    write(`wasm: SIMD ${report.wasm.simd ? "on" : "off"}, threads ${report.wasm.threads} (${build}; MM_WASM_THREADS sets 1 to 8)`);
  }
  if (report.backend !== "tensorflow") {
    write("For CUDA, install @tensorflow/tfjs-node-gpu@4.22.0 (see the README); MM_BACKEND or --backend picks a backend.");
  }
  return 0;
}
