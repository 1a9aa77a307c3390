import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { CheckpointManager } from "../checkpoint/checkpoint-manager";
import { buildToyModel, collateToyRecords, toyTraining } from "../test-support/toy-task";
import { Trainer } from "./trainer";

beforeAll(async () => {
  await useBackend("wasm");
});

describe("Trainer memory", () => {
  it("has as many tensors after step 200 as after step 10", async () => {
    const model = buildToyModel();
    const counts = new Map<number, number>();
    const checkpoints = new CheckpointManager(join(mkdtempSync(join(tmpdir(), "mm-memory-")), "checkpoints"), 1);
    const trainer = new Trainer({
      model,
      // Evaluations and checkpoints run in between, so their leaks would show too.
      training: toyTraining({ steps: 210, batchSize: 2, gradientAccumulation: 2, evalEvery: 25, saveEvery: 50, schedule: "cosine", warmupSteps: 5 }),
      records: [0, 1, 2, 3, 4, 5, 6],
      evalRecords: [7, 8],
      collate: collateToyRecords,
      seed: 0,
      checkpoints,
      onStep: (metrics) => counts.set(metrics.step, tf.memory().numTensors),
    });
    await trainer.run();
    expect(trainer.evaluations).toHaveLength(9);
    expect(counts.get(200)).toBe(counts.get(10));
    trainer.optimizer.dispose();
    model.dispose();
  });
});
