import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import type { TrainingInput } from "../config/training-schema";
import type { EvalMetrics } from "../loop/evaluate";
import { Trainer } from "../loop/trainer";
import { buildToyModel, collateToyRecords, toyTraining, weightsOf } from "../test-support/toy-task";
import { CheckpointManager } from "./checkpoint-manager";

beforeAll(async () => {
  await useBackend("wasm");
});

/** Seven training records, so epochs and batches do not line up, and one held-out record. */
const RECORDS = [0, 1, 2, 3, 4, 5, 6];
const HELD_OUT = [7];

class Crash extends Error {}

interface RunResult {
  weights: Map<string, Float32Array>;
  losses: number[];
  evaluations: EvalMetrics[];
  stepCount: number;
}

/**
 * Trains the toy task with checkpoints in `folder`. With `crashAfter`, the run throws after that
 * step (before its checkpoint), and a second Trainer on a model with other random weights resumes
 * from the newest checkpoint and finishes the run.
 */
async function train(changes: Partial<TrainingInput>, crashAfter?: number): Promise<RunResult> {
  const training = toyTraining({ steps: 12, batchSize: 3, gradientAccumulation: 2, warmupSteps: 2, schedule: "cosine", weightDecay: 0.05, saveEvery: 4, evalEvery: 3, ...changes });
  const checkpoints = new CheckpointManager(join(mkdtempSync(join(tmpdir(), "mm-resume-")), "checkpoints"), 2);
  const options = { training, records: RECORDS, evalRecords: HELD_OUT, collate: collateToyRecords, seed: 5, checkpoints };
  const crash = (step: number) => {
    if (step === crashAfter) throw new Crash(`crash after step ${step}`);
  };
  const firstModel = buildToyModel(3);
  const first = new Trainer({ ...options, model: firstModel, onStep: (metrics) => crash(metrics.step) });
  const crashed = await first.run().then(() => false, (error) => (error instanceof Crash ? true : Promise.reject(error)));
  first.optimizer.dispose();
  if (!crashed) return finish(first, firstModel);
  firstModel.dispose();

  const model = buildToyModel(99);
  const resumed = new Trainer({ ...options, model });
  resumed.resumeFrom(checkpoints.latest()!);
  await resumed.run();
  resumed.optimizer.dispose();
  return finish(resumed, model);
}

function finish(trainer: Trainer<number>, model: ReturnType<typeof buildToyModel>): RunResult {
  const result = { weights: weightsOf(model), losses: trainer.stepHistory.map((h) => h.loss), evaluations: trainer.evaluations, stepCount: trainer.optimizer.stepCount };
  model.dispose();
  return result;
}

describe("resuming from a checkpoint", () => {
  it.each([
    ["AdamW", { optimizer: "adamw" as const }],
    ["SGD with momentum", { optimizer: "sgd" as const, momentum: 0.9, learningRate: 0.5 }],
  ])("ends with bit-identical weights with %s", async (_name, changes) => {
    const uninterrupted = await train(changes);
    const resumed = await train(changes, 6); // the newest checkpoint is step 4
    expect(resumed.stepCount).toBe(12);
    expect(resumed.losses).toEqual(uninterrupted.losses);
    expect(resumed.evaluations.map((e) => [e.step, e.loss])).toEqual(uninterrupted.evaluations.map((e) => [e.step, e.loss]));
    expect([...resumed.weights.keys()]).toEqual([...uninterrupted.weights.keys()]);
    for (const [path, values] of uninterrupted.weights) expect({ path, values: resumed.weights.get(path) }).toEqual({ path, values });
  });

  it("continues the same loss curve when the crash is right after a checkpoint", async () => {
    const uninterrupted = await train({});
    const resumed = await train({}, 9); // checkpoint 8 was written after step 8's onStep
    expect(resumed.losses).toEqual(uninterrupted.losses);
    for (const [path, values] of uninterrupted.weights) expect(resumed.weights.get(path)).toEqual(values);
  });
});
