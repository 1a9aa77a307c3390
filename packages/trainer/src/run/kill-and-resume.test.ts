import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors } from "@mm/core";
import { beforeAll, describe, expect, it } from "vitest";
import { bundleTestScript } from "../test-support/bundle-child";
import { tinyVlmConfig } from "../test-support/tiny-vlm-config";

const MODULE_FILES = ["language_model/model.safetensors", "vision_encoder/module/model.safetensors", "vision_encoder/projector/model.safetensors"];
const STEPS = 5;
const KILL_AT_STEP = 3;

let script: string;

beforeAll(async () => {
  script = await bundleTestScript("train-child");
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Starts `node train-child.js CONFIG [--resume]` and collects its output until it exits. */
function startTraining(configPath: string, resume = false): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, [script, configPath, ...(resume ? ["--resume"] : [])], { env: { ...process.env, MM_LOG_LEVEL: "info" } });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exit = new Promise<Exit>((done) => child.on("exit", (code, signal) => done({ code, signal, output })));
  return { child, exit };
}

function writeConfig(folder: string): { configPath: string; output: string } {
  mkdirSync(folder, { recursive: true });
  const output = join(folder, "output");
  const configPath = join(folder, "config.json");
  writeFileSync(configPath, JSON.stringify(tinyVlmConfig(output, { steps: STEPS, saveEvery: 2, evalEvery: 3 }, { evalFraction: 0.2 })));
  return { configPath, output };
}

function metricLines(output: string): Array<Record<string, number>> {
  const path = join(output, "metrics.jsonl");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8").split("\n").filter((line) => line.endsWith("}")).map((line) => JSON.parse(line));
}

/** Sends SIGKILL as soon as metrics.jsonl shows `step`; resolves with the step it saw. */
function killAtStep(child: ChildProcess, output: string, step: number): Promise<number> {
  return new Promise((done) => {
    const timer = setInterval(() => {
      const seen = Math.max(0, ...metricLines(output).filter((line) => "loss" in line).map((line) => line.step));
      if (seen < step && child.exitCode === null) return;
      clearInterval(timer);
      child.kill("SIGKILL");
      done(seen);
    }, 10);
  });
}

describe("mm train killed and resumed", () => {
  it("ends with the weights and losses of an uninterrupted run", async () => {
    const folder = mkdtempSync(join(tmpdir(), "mm-kill-"));
    const reference = writeConfig(join(folder, "uninterrupted"));
    const killed = writeConfig(join(folder, "killed"));
    const started = performance.now();

    // Both runs start together; the second is killed with SIGKILL once it has logged step 3.
    const uninterrupted = startTraining(reference.configPath);
    const interrupted = startTraining(killed.configPath);
    const seenStep = await killAtStep(interrupted.child, killed.output, KILL_AT_STEP);
    const [referenceExit, killedExit] = await Promise.all([uninterrupted.exit, interrupted.exit]);
    expect(referenceExit.code, referenceExit.output).toBe(0);
    expect(killedExit.signal, killedExit.output).toBe("SIGKILL");
    expect(seenStep).toBeGreaterThanOrEqual(KILL_AT_STEP);
    expect(seenStep).toBeLessThan(STEPS);
    expect(existsSync(join(killed.output, "loss.svg"))).toBe(false);

    const resumed = await startTraining(killed.configPath, true).exit;
    expect(resumed.code, resumed.output).toBe(0);
    const [, resumedAfter] = /resuming from .*step-\d+ after step (\d+) of 5/.exec(resumed.output) ?? [];
    expect(Number(resumedAfter)).toBeLessThan(seenStep + 1);
    const seconds = (performance.now() - started) / 1000;

    let maxDifference = 0;
    for (const file of MODULE_FILES) {
      const expected = readSafetensors(join(reference.output, file)).tensors;
      const actual = readSafetensors(join(killed.output, file)).tensors;
      expect([...actual.keys()]).toEqual([...expected.keys()]);
      for (const [name, entry] of expected) {
        const values = actual.get(name)!.values;
        for (let i = 0; i < values.length; i++) maxDifference = Math.max(maxDifference, Math.abs(values[i] - entry.values[i]));
        expect({ name, equal: Buffer.compare(Buffer.from(values.buffer), Buffer.from(entry.values.buffer)) === 0 }).toEqual({ name, equal: true });
      }
    }
    const losses = (output: string) => metricLines(output).map((line) => ("loss" in line ? `step ${line.step}: ${line.loss}` : `eval ${line.step}: ${line.evalLoss}`));
    expect(losses(killed.output)).toEqual(losses(reference.output));
    expect(losses(killed.output)).toHaveLength(7); // 5 steps and evaluations after steps 3 and 5
    process.stderr.write(`kill-and-resume: killed after step ${seenStep}, resumed after step ${resumedAfter}, max weight difference ${maxDifference}, ${seconds.toFixed(1)} s\n`);
  });
});
