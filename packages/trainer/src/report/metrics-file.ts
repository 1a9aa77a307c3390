import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { EvalMetrics } from "../loop/evaluate";
import type { StepMetrics } from "../loop/step-log";

/**
 * `metrics.jsonl`: one JSON object per line. A training step writes `step`, `loss`,
 * `learningRate`, `gradNorm`, `milliseconds` and `tokensPerSecond`, plus `skipped` with the reason
 * when it made no update. An evaluation writes `step`, `evalLoss`, `evalPerplexity`, `evalTokens`
 * and `evalRecords`. NaN and infinite numbers are written as null.
 */
export class MetricsFile {
  constructor(readonly path: string) {}

  /** Replaces the file's contents with these lines, in step order (for a new or resumed run). */
  rewrite(history: StepMetrics[], evalHistory: EvalMetrics[]): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const lines = history.map((metrics) => ({ step: metrics.step, line: stepLine(metrics) }));
    for (const metrics of evalHistory) lines.push({ step: metrics.step + 0.5, line: evalLine(metrics) });
    lines.sort((a, b) => a.step - b.step);
    writeFileSync(this.path, lines.map(({ line }) => `${line}\n`).join(""));
  }

  appendStep(metrics: StepMetrics): void {
    appendFileSync(this.path, `${stepLine(metrics)}\n`);
  }

  appendEval(metrics: EvalMetrics): void {
    appendFileSync(this.path, `${evalLine(metrics)}\n`);
  }
}

function stepLine({ step, loss, learningRate, gradNorm, milliseconds, tokensPerSecond, skipped }: StepMetrics): string {
  return JSON.stringify({ step, loss, learningRate, gradNorm, milliseconds, tokensPerSecond, skipped });
}

function evalLine({ step, loss, perplexity, tokens, records }: EvalMetrics): string {
  return JSON.stringify({ step, evalLoss: loss, evalPerplexity: perplexity, evalTokens: tokens, evalRecords: records });
}
