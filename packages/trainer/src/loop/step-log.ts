/** The numbers of one optimizer step, as logged and written to metrics. */
export interface StepMetrics {
  step: number;
  totalSteps: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  milliseconds: number;
  tokensPerSecond: number;
}

/** One log line: step, loss, learning rate, gradient norm, ms per step, tokens per second. */
export function formatStepLine(metrics: StepMetrics): string {
  const width = String(metrics.totalSteps).length;
  return [
    `step ${String(metrics.step).padStart(width)}/${metrics.totalSteps}`,
    `loss ${metrics.loss.toFixed(4)}`,
    `lr ${metrics.learningRate.toExponential(2)}`,
    `grad norm ${metrics.gradNorm.toFixed(3)}`,
    `${Math.round(metrics.milliseconds)} ms`,
    `${Math.round(metrics.tokensPerSecond)} tok/s`,
  ].join(" | ");
}
