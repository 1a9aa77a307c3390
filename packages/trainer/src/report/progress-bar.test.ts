import { getLogger, setLogLevel, setLogSink, type LogSink } from "@mm/core";
import { afterEach, describe, expect, it } from "vitest";
import type { StepMetrics } from "../loop/step-log";
import { createProgressReporter } from "./create-progress-reporter";
import { formatDuration, ProgressBar } from "./progress-bar";
import { LogLineReporter } from "./progress-reporter";

const CLEAR_LINE = "\r\x1b[2K";

function metrics(step: number): StepMetrics {
  return { step, totalSteps: 20, loss: 1.23456, learningRate: 0.002, gradNorm: 0.3, milliseconds: 50, tokensPerSecond: 1234.4 };
}

function terminal(columns = 120) {
  const writes: string[] = [];
  return { writes, stream: { columns, isTTY: true, write: (text: string) => writes.push(text) } };
}

afterEach(() => setLogLevel("info"));

describe("ProgressBar", () => {
  it("redraws one line with step, bar, loss, lr, tok/s and ETA", () => {
    const { writes, stream } = terminal();
    const bar = new ProgressBar(stream);
    bar.start(0);
    bar.onStep(metrics(5));
    bar.finish();
    expect(writes[0]).toMatch(/^\r\x1b\[2Kstep  5\/20 \[#{10}\.{30}\] loss 1\.2346 \| lr 2\.00e-3 \| 1234 tok\/s \| ETA \d+:\d\d$/);
    expect(writes.at(-1)).toBe("\n");
  });

  it("narrows the bar to the terminal width", () => {
    const { stream } = terminal(90);
    const line = new ProgressBar(stream).render(metrics(20));
    expect(line.length).toBeLessThanOrEqual(90);
    expect(line).toMatch(/\[#{10,}\]/);
  });

  it("writes log lines above the bar and restores the sink at the end", () => {
    const { writes, stream } = terminal();
    const logged: string[] = [];
    const sink: LogSink = (_level, _scope, message) => logged.push(message);
    const original = setLogSink(sink);
    try {
      const bar = new ProgressBar(stream);
      bar.start(0);
      bar.onStep(metrics(1));
      getLogger("test").info("saved a checkpoint");
      expect(logged).toEqual(["saved a checkpoint"]);
      expect(writes.slice(1)).toEqual([CLEAR_LINE, writes[0].slice(CLEAR_LINE.length)]);
      bar.finish();
      getLogger("test").info("after");
      expect(writes.at(-1)).toBe("\n");
      expect(logged).toEqual(["saved a checkpoint", "after"]);
    } finally {
      setLogSink(original);
    }
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0:00"],
    [61_400, "1:01"],
    [3_725_000, "1:02:05"],
    [Number.NaN, "?"],
  ])("formats %d ms as %s", (milliseconds, text) => {
    expect(formatDuration(milliseconds)).toBe(text);
  });
});

describe("createProgressReporter", () => {
  it("shows a bar on a terminal and log lines elsewhere", () => {
    expect(createProgressReporter("auto", { logEvery: 1, stream: terminal().stream })).toBeInstanceOf(ProgressBar);
    expect(createProgressReporter("auto", { logEvery: 1, stream: { ...terminal().stream, isTTY: false } })).toBeInstanceOf(LogLineReporter);
    expect(createProgressReporter("lines", { logEvery: 1, stream: terminal().stream })).toBeInstanceOf(LogLineReporter);
  });

  it("shows no bar when the log level hides info lines", () => {
    setLogLevel("warn");
    expect(createProgressReporter("auto", { logEvery: 1, stream: terminal().stream })).toBeInstanceOf(LogLineReporter);
  });
});

describe("LogLineReporter", () => {
  it("logs every logEvery steps, the last step and skipped steps", () => {
    const logged: string[] = [];
    const original = setLogSink((_level, _scope, message) => logged.push(message));
    try {
      const reporter = new LogLineReporter(5);
      for (let step = 1; step <= 20; step++) reporter.onStep(step === 7 ? { ...metrics(step), skipped: "non-finite loss" } : metrics(step));
    } finally {
      setLogSink(original);
    }
    expect(logged.map((line) => /^step +(\d+)/.exec(line)![1])).toEqual(["5", "7", "10", "15", "20"]);
    expect(logged[1]).toMatch(/\| skipped: non-finite loss$/);
  });
});
