// One optimizer step of the reference model, plain, split into phases, or under tf.profile.
import { performance } from "node:perf_hooks";
import { tf, trainer } from "./mm-packages.mjs";

/** Builds AdamW over every parameter; it keeps moments only for those that receive gradients. */
export function createOptimizer(model, optimizerConfig) {
  return new trainer.AdamW(new Map(model.namedParameters()), {
    beta1: optimizerConfig.beta1,
    beta2: optimizerConfig.beta2,
    eps: optimizerConfig.eps,
    weightDecay: optimizerConfig.weightDecay,
  });
}

/** Clips the gradients to the global norm, applies AdamW and frees the gradients. */
function applyGradients(optimizer, grads, optimizerConfig) {
  const { grads: clipped } = trainer.clipGradNorm(grads, optimizerConfig.maxGradNorm);
  optimizer.step(clipped, optimizerConfig.learningRate);
  tf.dispose(Object.values(clipped));
}

/**
 * Runs one training step as the trainer does (MultimodalModel.computeGradients, clipGradNorm,
 * AdamW) and returns the loss. The batch stays alive for the next step.
 */
export function trainStep(model, optimizer, batch, optimizerConfig) {
  const { loss, grads } = model.computeGradients(batch);
  const lossValue = loss.dataSync()[0];
  loss.dispose();
  applyGradients(optimizer, grads, optimizerConfig);
  return lossValue;
}

/**
 * Runs one step as `trainStep` does and returns the milliseconds of the forward pass, the
 * backward pass and the optimizer (clipping included). The forward pass is timed by wrapping
 * `model.forward` for this step, so it is the call that MultimodalModel.computeGradients makes,
 * with its options. The backward time is the rest of computeGradients, which includes running a
 * frozen encoder ahead of the gradient tape. The WASM and CPU backends run kernels
 * synchronously, so the wall-clock time of each phase is its compute time.
 */
export function timePhases(model, optimizer, batch, optimizerConfig) {
  let forwardMs = 0;
  const forward = model.forward.bind(model);
  model.forward = (...args) => {
    const forwardStarted = performance.now();
    const output = forward(...args);
    output.loss?.dataSync();
    forwardMs += performance.now() - forwardStarted;
    return output;
  };

  const started = performance.now();
  let grads;
  try {
    const result = model.computeGradients(batch);
    result.loss.dispose();
    grads = result.grads;
  } finally {
    delete model.forward; // restores the prototype's forward
  }
  const gradientsMs = performance.now() - started;

  applyGradients(optimizer, grads, optimizerConfig);
  const optimizerMs = performance.now() - started - gradientsMs;
  return { forwardMs, backwardMs: gradientsMs - forwardMs, optimizerMs };
}

/**
 * Runs one training step under tf.profile and returns its loss, the peak bytes of all live
 * tensors during the step (weights and optimizer moments included), and the kernel records
 * (name, kernelTimeMs, ...) as tfjs-core 4.22's engine.profile reports them.
 */
export async function profileStep(model, optimizer, batch, optimizerConfig) {
  const profile = await tf.profile(() => trainStep(model, optimizer, batch, optimizerConfig));
  return { loss: profile.result, peakBytes: profile.peakBytes, kernels: profile.kernels };
}

/**
 * Sums kernel time and call count by kernel name, largest total first. Names that are not
 * registered kernels of `backendName` are composite ops (tf.customGrad in @mm/core): their time
 * already includes the kernels they launch, so they are returned apart and left out of the sum.
 */
export function aggregateKernels(kernels, backendName) {
  const byName = new Map();
  for (const { name, kernelTimeMs } of kernels) {
    const entry = byName.get(name) ?? { name, totalMs: 0, count: 0 };
    entry.totalMs += kernelTimeMs;
    entry.count += 1;
    byName.set(name, entry);
  }
  const entries = [...byName.values()].sort((a, b) => b.totalMs - a.totalMs);
  const isKernel = (entry) => tf.getKernel(entry.name, backendName) !== undefined;
  const registered = entries.filter(isKernel);
  return {
    kernels: registered,
    composites: entries.filter((entry) => !isKernel(entry)),
    kernelTotalMs: registered.reduce((sum, entry) => sum + entry.totalMs, 0),
  };
}

/**
 * Sums the time and calls of one kernel by its input shapes, largest total first, for example
 * to tell the LM head's matrix products from the attention's.
 */
export function aggregateByShape(kernels, kernelName) {
  const byShape = new Map();
  for (const { name, inputShapes, kernelTimeMs } of kernels) {
    if (name !== kernelName) continue;
    const key = inputShapes.map((shape) => `[${shape}]`).join(" × ");
    const entry = byShape.get(key) ?? { inputShapes: key, totalMs: 0, count: 0 };
    entry.totalMs += kernelTimeMs;
    entry.count += 1;
    byShape.set(key, entry);
  }
  return [...byShape.values()].sort((a, b) => b.totalMs - a.totalMs);
}
