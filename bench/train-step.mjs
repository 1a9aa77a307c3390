#!/usr/bin/env node
// Benchmark tooling, not part of `npm test`: times training steps of the reference model
// (bench/reference-config.json) on one tfjs backend in one freeze mode and prints one JSON object
// on stdout. bench/run.sh runs every backend and mode in its own process, so that each peak RSS
// belongs to one configuration.
//
//   node bench/train-step.mjs --backend wasm --threads 2 --mode all --steps 5 --warmup 1 --profile
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { core, tf } from "./lib/mm-packages.mjs";
import { FREEZE_MODES, buildRandomBatch, buildReferenceModel, readReferenceConfig, tokensPerBatch } from "./lib/reference-model.mjs";
import { aggregateByShape, aggregateKernels, createOptimizer, profileStep, timePhases, trainStep } from "./lib/train-steps.mjs";

const USAGE = `usage: node bench/train-step.mjs [options]
  --backend wasm|cpu|tensorflow   tfjs backend (default wasm)
  --mode ${Object.keys(FREEZE_MODES).join("|")}   which parts train (default all)
  --threads N    WASM threads, 1 to 8 (default: MM_WASM_THREADS, else one per logical CPU, at most 8)
  --steps N      timed steps after the warm-up (default 5)
  --warmup N     untimed steps first (default 1)
  --profile      also profile kernels and time forward, backward and optimizer (mode all only)
  --top N        kernels listed by --profile (default 15)`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      backend: { type: "string", default: "wasm" },
      mode: { type: "string", default: "all" },
      threads: { type: "string" },
      steps: { type: "string", default: "5" },
      warmup: { type: "string", default: "1" },
      profile: { type: "boolean", default: false },
      top: { type: "string", default: "15" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const options = { ...values, steps: Number(values.steps), warmup: Number(values.warmup), top: Number(values.top) };
  options.threads = values.threads === undefined ? undefined : core.parseWasmThreads(values.threads, "--threads");
  if (options.threads !== undefined && options.backend !== "wasm") throw new Error("--threads sets the WASM threads; use it with --backend wasm");
  if (!(options.mode in FREEZE_MODES)) throw new Error(`invalid --mode "${options.mode}"\n${USAGE}`);
  if (!["wasm", "cpu", "tensorflow"].includes(options.backend)) throw new Error(`invalid --backend "${options.backend}"\n${USAGE}`);
  if (!(Number.isInteger(options.steps) && options.steps >= 1)) throw new Error(`--steps must be an integer of at least 1, got "${values.steps}"`);
  if (!(Number.isInteger(options.warmup) && options.warmup >= 0)) throw new Error(`--warmup must be a non-negative integer, got "${values.warmup}"`);
  if (options.profile && options.mode !== "all") throw new Error("--profile times the phases of a fully trainable model; use it with --mode all");
  return options;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Starts the backend, or returns the reason it cannot start (tfjs-node not installed, ...). */
async function startBackend(backend, wasmThreads) {
  try {
    const report = await core.initBackend(backend, { wasmThreads });
    return { report };
  } catch (error) {
    return { unavailable: error.message };
  }
}

/**
 * Runs the warm-up steps, then the timed steps, each under tf.profile for its peak tensor bytes.
 * On WASM and CPU, tf.profile only adds a timer read before and after each kernel. With
 * --profile, the kernels of the first timed step are aggregated, and one more step, untimed,
 * measures forward, backward and optimizer apart.
 */
async function measure(options, config) {
  const buildStarted = performance.now();
  const model = buildReferenceModel(config).train(FREEZE_MODES[options.mode]);
  const batch = buildRandomBatch(config);
  const optimizer = createOptimizer(model, config.optimizer);
  const buildMs = performance.now() - buildStarted;
  const losses = [];

  for (let i = 0; i < options.warmup; i++) losses.push(trainStep(model, optimizer, batch, config.optimizer));

  const stepMs = [];
  const cpuMs = [];
  const peakBytes = [];
  let firstProfile;
  for (let i = 0; i < options.steps; i++) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const profile = await profileStep(model, optimizer, batch, config.optimizer);
    const cpu = process.cpuUsage(cpuStarted);
    stepMs.push(performance.now() - started);
    cpuMs.push((cpu.user + cpu.system) / 1000);
    peakBytes.push(profile.peakBytes);
    losses.push(profile.loss);
    firstProfile ??= profile;
  }

  const parameters = model.namedParameters().map(([, variable]) => variable);
  const result = {
    buildMs,
    stepMs,
    medianMs: median(stepMs),
    cpuMs,
    medianCpuMs: median(cpuMs),
    losses,
    peakTensorBytes: Math.max(...peakBytes),
    parameters: parameters.reduce((sum, variable) => sum + variable.size, 0),
    trainableParameters: parameters.filter((variable) => variable.trainable).reduce((sum, variable) => sum + variable.size, 0),
  };
  if (options.profile) {
    const aggregated = aggregateKernels(firstProfile.kernels, tf.getBackend());
    const phases = timePhases(model, optimizer, batch, config.optimizer);
    const topKernel = aggregated.kernels[0]?.name;
    Object.assign(result, {
      phases,
      ...aggregated,
      kernels: aggregated.kernels.slice(0, options.top),
      kernelCount: aggregated.kernels.length,
      topKernelShapes: topKernel === undefined ? [] : aggregateByShape(firstProfile.kernels, topKernel).slice(0, 8),
    });
  }
  return result;
}

async function main() {
  const options = parseOptions();
  const config = readReferenceConfig();
  const header = { framework: "mm", tfjs: tf.version.tfjs, backend: options.backend, mode: options.mode, steps: options.steps, warmupSteps: options.warmup, tokensPerStep: tokensPerBatch(config) };

  const { report, unavailable } = await startBackend(options.backend, options.threads);
  if (unavailable !== undefined) {
    console.log(JSON.stringify({ ...header, status: "unavailable", reason: unavailable }));
    return;
  }
  const result = await measure(options, config);
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  const tokensPerSecond = (header.tokensPerStep * 1000) / result.medianMs;
  console.log(JSON.stringify({ ...header, status: "measured", wasm: report.wasm, ...result, tokensPerSecond, peakRssBytes }));
}

main().catch((error) => {
  // Printed here because the WASM module's own uncaughtException handler dumps its source first.
  console.error(`train-step failed: ${error.stack ?? error}`);
  process.exit(1);
});
