import { getLogger, setLogSink, type LogSink } from "@mm/core";
import type { EvalMetrics } from "../loop/evaluate";
import { formatEvalLine, type StepMetrics } from "../loop/step-log";
import type { ProgressReporter } from "./progress-reporter";

/** The part of a terminal stream the bar writes to. */
export interface TerminalStream {
  write(text: string): unknown;
  /** Terminal width in characters; 80 when unknown. */
  columns?: number;
}

const log = getLogger("trainer");

const CLEAR_LINE = "\r\x1b[2K";

/**
 * A one-line progress bar for a terminal: step, bar, loss, learning rate, tokens per second and
 * the estimated time left, redrawn in place after every step. While it is shown, log lines from
 * any mm logger are written above it: it wraps the log sink and restores it in `finish`.
 */
export class ProgressBar implements ProgressReporter {
  private line = "";
  private started = 0;
  /** Steps completed before this run started (non-zero when resuming), so the ETA counts only this run's steps. */
  private firstStep = 0;
  private previousSink: LogSink | undefined;

  constructor(private readonly stream: TerminalStream) {}

  /** Starts the clock and routes log lines above the bar until `finish`. */
  start(completedSteps: number): void {
    this.firstStep = completedSteps;
    this.started = performance.now();
    const previous = setLogSink((level, scope, message) => {
      this.stream.write(CLEAR_LINE);
      previous(level, scope, message);
      this.stream.write(this.line);
    });
    this.previousSink = previous;
  }

  onStep(metrics: StepMetrics): void {
    this.line = this.render(metrics);
    this.stream.write(`${CLEAR_LINE}${this.line}`);
  }

  onEval(metrics: EvalMetrics): void {
    log.info(formatEvalLine(metrics));
  }

  finish(): void {
    if (this.line !== "") this.stream.write("\n");
    this.line = "";
    if (this.previousSink !== undefined) setLogSink(this.previousSink);
    this.previousSink = undefined;
  }

  /** Renders the bar's text for `metrics`, fitted to the terminal width. */
  render(metrics: StepMetrics): string {
    const width = String(metrics.totalSteps).length;
    const stepsSeen = Math.max(1, metrics.step - this.firstStep);
    const elapsed = performance.now() - this.started;
    const remaining = (elapsed / stepsSeen) * (metrics.totalSteps - metrics.step);
    const prefix = `step ${String(metrics.step).padStart(width)}/${metrics.totalSteps} `;
    const suffix = ` loss ${metrics.loss.toFixed(4)} | lr ${metrics.learningRate.toExponential(2)} | ${Math.round(metrics.tokensPerSecond)} tok/s | ETA ${formatDuration(remaining)}`;
    const barWidth = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - prefix.length - suffix.length - 3));
    const filled = Math.round((barWidth * metrics.step) / metrics.totalSteps);
    return `${prefix}[${"#".repeat(filled)}${".".repeat(barWidth - filled)}]${suffix}`;
  }
}

/** Formats milliseconds as m:ss or h:mm:ss; "?" when unknown. */
export function formatDuration(milliseconds: number): string {
  if (!Number.isFinite(milliseconds)) return "?";
  const seconds = Math.round(milliseconds / 1000);
  const [hours, minutes, rest] = [Math.floor(seconds / 3600), Math.floor((seconds % 3600) / 60), seconds % 60];
  const two = (value: number) => String(value).padStart(2, "0");
  return hours > 0 ? `${hours}:${two(minutes)}:${two(rest)}` : `${minutes}:${two(rest)}`;
}
