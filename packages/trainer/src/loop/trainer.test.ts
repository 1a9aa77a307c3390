import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "@mm/core";
import { useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { CheckpointManager } from "../checkpoint/checkpoint-manager";
import { buildToyModel, collateToyRecords, toyTraining } from "../test-support/toy-task";
import type { LoadedBatch } from "./loaded-batch";
import { NonFiniteLossError } from "./non-finite";
import { Trainer } from "./trainer";

const TRAINING = toyTraining();

beforeAll(async () => {
  await useBackend("wasm");
});

/** Collates like the toy task, but with NaN pixels for the records in `poisoned`. */
function poisonedCollate(poisoned: Set<number>) {
  return async (records: number[]): Promise<LoadedBatch> => {
    const loaded = await collateToyRecords(records);
    if (!records.some((r) => poisoned.has(r))) return loaded;
    const pixels = loaded.batch!.encoderInputs!.vision.inputs.pixel_values;
    loaded.batch!.encoderInputs!.vision.inputs.pixel_values = tf.fill(pixels.shape, NaN);
    pixels.dispose();
    return loaded;
  };
}

describe("Trainer", () => {
  it("halves the loss on a learnable toy task", async () => {
    const model = buildToyModel();
    const trainer = new Trainer({ model, training: TRAINING, records: [0, 1, 2, 3, 4, 5, 6, 7], collate: collateToyRecords, seed: 0 });
    const history = await trainer.run();
    expect(history).toHaveLength(30);
    expect(history[29].loss).toBeLessThan(history[0].loss / 2);
    trainer.optimizer.dispose();
    model.dispose();
  });

  it("lowers the loss with SGD and momentum", async () => {
    const model = buildToyModel();
    const training = toyTraining({ optimizer: "sgd", momentum: 0.9, learningRate: 2, steps: 40 });
    const trainer = new Trainer({ model, training, records: [0, 1, 2, 3, 4, 5, 6, 7], collate: collateToyRecords, seed: 0 });
    const history = await trainer.run();
    expect(trainer.optimizer.name).toBe("sgd");
    expect(history[39].loss).toBeLessThan(history[0].loss * 0.8);
    trainer.optimizer.dispose();
    model.dispose();
  });

  it("keeps the tensor count constant from step to step", async () => {
    const model = buildToyModel();
    const counts: number[] = [];
    const trainer = new Trainer({
      model,
      training: { ...TRAINING, steps: 8, gradientAccumulation: 2 },
      records: [0, 1, 2, 3, 4, 5],
      collate: collateToyRecords,
      seed: 0,
      onStep: () => counts.push(tf.memory().numTensors),
    });
    await trainer.run();
    // From step 2 on, the optimizer state exists and the only live batch is the one prefetched.
    expect(new Set(counts.slice(1, -1)).size).toBe(1);
    trainer.optimizer.dispose();
    model.dispose();
  });

  it("gives the same update for 4 micro-batches of 1 as for 1 batch of 4", async () => {
    const run = async (batchSize: number, gradientAccumulation: number) => {
      const model = buildToyModel();
      const trainer = new Trainer({ model, training: { ...TRAINING, steps: 3, batchSize, gradientAccumulation }, records: [0, 1, 2, 3], collate: collateToyRecords, seed: 0 });
      const history = await trainer.run();
      const weights = model.parameters().map((v) => Array.from(v.dataSync()));
      trainer.optimizer.dispose();
      model.dispose();
      return { losses: history.map((h) => h.loss), weights };
    };
    const whole = await run(4, 1);
    const split = await run(1, 4);
    split.losses.forEach((loss, i) => expect(loss).toBeCloseTo(whole.losses[i], 5));
    split.weights.forEach((values, i) => values.forEach((value, j) => expect(value).toBeCloseTo(whole.weights[i][j], 5)));
  });

  it("stops on a non-finite loss naming the step and records", async () => {
    const model = buildToyModel();
    const options = { model, training: { ...TRAINING, steps: 2, batchSize: 2 }, records: [5, 6], collate: poisonedCollate(new Set([5, 6])), seed: 0 };
    await expect(new Trainer(options).run()).rejects.toThrow(NonFiniteLossError);
    await expect(new Trainer(options).run()).rejects.toThrow(
      /^step 1: the loss \(NaN\) or gradient norm \(NaN\) is not finite for records [56], [56]; .*no checkpoint has been written yet$/,
    );
    model.dispose();
  });

  it("skips and counts non-finite steps with skipNonFinite", async () => {
    const model = buildToyModel();
    const before = model.parameters().map((v) => Array.from(v.dataSync()));
    // One record per step from records 1 and 5: each epoch of 2 steps draws record 5, whose pixels are NaN, once.
    const training = { ...TRAINING, steps: 6, batchSize: 1, skipNonFinite: true };
    const trainer = new Trainer({ model, training, records: [1, 5], collate: poisonedCollate(new Set([5])), seed: 0 });
    const history = await trainer.run();
    const skipped = history.filter((h) => h.skipped !== undefined);
    expect(skipped).toHaveLength(3);
    expect(skipped.every((h) => h.skipped === "non-finite loss")).toBe(true);
    expect(trainer.skipped).toBe(3);
    expect(trainer.optimizer.stepCount).toBe(3);
    const after = model.parameters().map((v) => Array.from(v.dataSync()));
    expect(after.some((values, i) => values.some((value, j) => value !== before[i][j]))).toBe(true);
    expect(after.flat().every(Number.isFinite)).toBe(true);
    trainer.optimizer.dispose();
    model.dispose();
  });

  it("names the last good checkpoint when the loss turns non-finite", async () => {
    const model = buildToyModel();
    const checkpoints = new CheckpointManager(join(mkdtempSync(join(tmpdir(), "mm-nonfinite-")), "checkpoints"), 2);
    // One record per step in the order the seed gives; record 5 is poisoned.
    const trainer = new Trainer({ model, training: { ...TRAINING, steps: 4, batchSize: 1, saveEvery: 1 }, records: [1, 2, 5], collate: poisonedCollate(new Set([5])), seed: 0, checkpoints });
    const error = await trainer.run().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    const { step } = error as NonFiniteLossError;
    expect(step).toBeGreaterThan(1);
    expect((error as Error).message).toMatch(new RegExp(`^step ${step}: .* for records 5; .*the last good checkpoint is .*step-${step - 1} \\(continue from it with mm train CONFIG --resume\\)$`));
    expect(checkpoints.latest()).toMatch(new RegExp(`step-${step - 1}$`));
    trainer.optimizer.dispose();
    model.dispose();
  });

  it("lists skipped records once and skips steps left without records", async () => {
    const model = buildToyModel();
    const bad = new Set([8, 9]);
    const collate = async (records: number[]): Promise<LoadedBatch> => {
      const good = records.filter((r) => !bad.has(r));
      const badRecords = records.filter((r) => bad.has(r)).map((r) => ({ id: String(r), file: "toy.json", reason: "image file not found" }));
      if (good.length === 0) return { recordIds: [], badRecords };
      return { ...(await collateToyRecords(good)), badRecords };
    };
    // One record per step from records 1, 8 and 9: in each epoch of 3 steps, two steps draw only a bad record.
    const trainer = new Trainer({ model, training: { ...TRAINING, steps: 6, batchSize: 1, gradientAccumulation: 1 }, records: [1, 8, 9], collate, seed: 0 });
    const history = await trainer.run();
    expect(trainer.skippedRecords().map((r) => r.id).sort()).toEqual(["8", "9"]);
    expect(history.filter((h) => h.skipped === "no usable records")).toHaveLength(4);
    expect(history.filter((h) => h.skipped === undefined)).toHaveLength(2);
    expect(trainer.optimizer.stepCount).toBe(2);
    trainer.optimizer.dispose();
    model.dispose();
  });

  it("stops on a failed batch of a later step without leaking tensors", async () => {
    const model = buildToyModel();
    const before = tf.memory().numTensors;
    let calls = 0;
    // Step 3's second micro-batch fails while step 2 computes.
    const collate = async (records: number[]): Promise<LoadedBatch> => {
      const call = ++calls;
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (call === 6) throw new InputError("image file not found: toy.png");
      return collateToyRecords(records);
    };
    const trainer = new Trainer({ model, training: { ...TRAINING, steps: 5, batchSize: 2, gradientAccumulation: 2 }, records: [0, 1, 2, 3], collate, seed: 0 });
    await expect(trainer.run()).rejects.toThrow(/^image file not found: toy.png$/);
    expect(trainer.step).toBe(2);
    trainer.optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("reports a batch that fails during an evaluation as the run's error", async () => {
    const model = buildToyModel();
    let trainingCalls = 0;
    // Step 2's batch, prefetched before step 1, fails while step 1's evaluation waits for its batch.
    const collate = async (records: number[]): Promise<LoadedBatch> => {
      const isEvaluation = records.includes(100);
      const call = isEvaluation ? 0 : ++trainingCalls;
      await new Promise((resolve) => setTimeout(resolve, isEvaluation ? 20 : 1));
      if (call === 2) throw new InputError("image file not found: toy.png");
      return collateToyRecords(records.map((r) => r % 8));
    };
    const training = { ...TRAINING, steps: 3, batchSize: 2, evalEvery: 1 };
    const trainer = new Trainer({ model, training, records: [0, 1, 2, 3], evalRecords: [100], collate, seed: 0 });
    await expect(trainer.run()).rejects.toThrow(/^image file not found: toy.png$/);
    expect(trainer.evaluations).toHaveLength(1);
    trainer.optimizer.dispose();
    model.dispose();
  });
});
