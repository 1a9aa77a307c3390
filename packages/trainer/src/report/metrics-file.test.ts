import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StepMetrics } from "../loop/step-log";
import { MetricsFile } from "./metrics-file";

function step(n: number, loss = 2 / n): StepMetrics {
  return { step: n, totalSteps: 10, loss, learningRate: 0.001, gradNorm: 0.5, milliseconds: 20, tokensPerSecond: 1000 };
}

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line));
}

describe("MetricsFile", () => {
  it("writes one JSON object per step and per evaluation", () => {
    const file = new MetricsFile(join(mkdtempSync(join(tmpdir(), "mm-metrics-")), "run", "metrics.jsonl"));
    file.rewrite([], []);
    file.appendStep(step(1));
    file.appendEval({ step: 1, loss: 1.5, perplexity: Math.exp(1.5), tokens: 30, records: 4 });
    file.appendStep({ ...step(2, Number.NaN), skipped: "non-finite loss" });
    expect(lines(file.path)).toEqual([
      { step: 1, loss: 2, learningRate: 0.001, gradNorm: 0.5, milliseconds: 20, tokensPerSecond: 1000 },
      { step: 1, evalLoss: 1.5, evalPerplexity: Math.exp(1.5), evalTokens: 30, evalRecords: 4 },
      { step: 2, loss: null, learningRate: 0.001, gradNorm: 0.5, milliseconds: 20, tokensPerSecond: 1000, skipped: "non-finite loss" },
    ]);
  });

  it("rewrites the file from a resumed history, evaluations after their step", () => {
    const file = new MetricsFile(join(mkdtempSync(join(tmpdir(), "mm-metrics-")), "metrics.jsonl"));
    file.rewrite([step(1), step(2), step(3)], [{ step: 2, loss: 1, perplexity: Math.E, tokens: 3, records: 1 }]);
    file.appendStep(step(4));
    expect(lines(file.path).map((line) => ("evalLoss" in line ? `eval ${line.step}` : `step ${line.step}`))).toEqual(["step 1", "step 2", "eval 2", "step 3", "step 4"]);
  });
});
