import type { EvalMetrics } from "./evaluate";

/** The numbers of one optimizer step, as logged and written to metrics.jsonl. */
export interface StepMetrics {
  step: number;
  totalSteps: number;
  /** Mean cross-entropy over the step's trained tokens; NaN when the step was skipped for lack of records. */
  loss: number;
  learningRate: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Time spent computing the step (gradients and update), not counting the wait for its batches. */
  milliseconds: number;
  /** Non-padding tokens per second of `milliseconds`. */
  tokensPerSecond: number;
  /** Why the step made no update: "non-finite loss" or "no usable records". Absent for normal steps. */
  skipped?: string;
}

/** Formats one log line: step, loss, learning rate, gradient norm, ms per step, tokens per second. */
export function formatStepLine(metrics: StepMetrics): string {
  const width = String(metrics.totalSteps).length;
  const line = [
    `step ${String(metrics.step).padStart(width)}/${metrics.totalSteps}`,
    `loss ${metrics.loss.toFixed(4)}`,
    `lr ${metrics.learningRate.toExponential(2)}`,
    `grad norm ${metrics.gradNorm.toFixed(3)}`,
    `${Math.round(metrics.milliseconds)} ms`,
    `${Math.round(metrics.tokensPerSecond)} tok/s`,
  ].join(" | ");
  return metrics.skipped === undefined ? line : `${line} | skipped: ${metrics.skipped}`;
}

/** Formats one log line for an evaluation: step, held-out loss and perplexity. */
export function formatEvalLine(metrics: EvalMetrics): string {
  return `eval at step ${metrics.step} | loss ${metrics.loss.toFixed(4)} | perplexity ${metrics.perplexity.toFixed(2)} | ${metrics.records} records, ${metrics.tokens} tokens`;
}
