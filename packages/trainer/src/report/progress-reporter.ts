import { getLogger } from "@mm/core";
import type { EvalMetrics } from "../loop/evaluate";
import { formatEvalLine, formatStepLine, type StepMetrics } from "../loop/step-log";

const log = getLogger("trainer");

/** Shows training progress: per-step metrics and evaluations as they arrive. */
export interface ProgressReporter {
  /** Called once before the first step of a run; `completedSteps` is non-zero when resuming. */
  start(completedSteps: number): void;
  onStep(metrics: StepMetrics): void;
  onEval(metrics: EvalMetrics): void;
  /** Ends the output, e.g. moves past a progress bar; called once when the run stops. */
  finish(): void;
}

/**
 * Writes plain log lines through the "trainer" logger: one per `logEvery` steps, the last step,
 * every skipped step and every evaluation. Used when stdout is not a terminal.
 */
export class LogLineReporter implements ProgressReporter {
  constructor(private readonly logEvery: number) {}

  start(): void {}

  onStep(metrics: StepMetrics): void {
    const due = metrics.step % this.logEvery === 0 || metrics.step === metrics.totalSteps;
    if (due || metrics.skipped !== undefined) log.info(formatStepLine(metrics));
  }

  onEval(metrics: EvalMetrics): void {
    log.info(formatEvalLine(metrics));
  }

  finish(): void {}
}
