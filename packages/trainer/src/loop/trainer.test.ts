import * as tf from "@tensorflow/tfjs";
import { manualSeed, ModalEncoderModule, MultimodalModel, MultimodalProjector } from "@mm/core";
import { ToyEncoder, ToyLanguageModel, useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import type { TrainingOptions } from "../config/train-config";
import { NonFiniteLossError, Trainer, type LoadedBatch } from "./trainer";

const VOCAB = 12;
const IMAGE = 12;

/** Record r: an "image" of 2 feature rows filled with r, then text tokens r+1, r+2, r+3. */
function collateRecords(records: number[]): Promise<LoadedBatch> {
  const ids = records.map((r) => [1, IMAGE, IMAGE, r + 1, r + 2, r + 3]);
  const labels = ids.map((row) => row.map((id, t) => (t < 3 ? -100 : id)));
  const pixels = records.map((r) => [Array(4).fill(r / 8), Array(4).fill(-r / 8)]);
  return Promise.resolve({
    batch: {
      input_ids: tf.tensor2d(ids, undefined, "int32"),
      attention_mask: tf.ones([records.length, 6], "int32"),
      labels: tf.tensor2d(labels, undefined, "int32"),
      encoderInputs: { vision: { inputs: { pixel_values: tf.tensor3d(pixels) }, inputsPerSample: records.map(() => 1) } },
    },
    recordIds: records.map(String),
  });
}

function buildModel(): MultimodalModel {
  manualSeed(3);
  const model = new MultimodalModel({
    encoders: { vision: new ModalEncoderModule({ model: new ToyEncoder(4, 6), projector: new MultimodalProjector({ inFeatures: 6, outFeatures: 8 }) }) },
    languageModel: new ToyLanguageModel(VOCAB, 8),
  });
  model.setModalityTokenIds({ vision: IMAGE });
  return model;
}

const TRAINING: TrainingOptions = {
  steps: 30,
  batchSize: 4,
  gradientAccumulation: 1,
  learningRate: 0.05,
  weightDecay: 0,
  warmupSteps: 0,
  schedule: "constant",
  maxGradNorm: 1,
  logEvery: 1000,
};

beforeAll(async () => {
  await useBackend("wasm");
});

describe("Trainer", () => {
  it("halves the loss on a learnable toy task", async () => {
    const model = buildModel();
    const trainer = new Trainer({ model, training: TRAINING, records: [0, 1, 2, 3, 4, 5, 6, 7], collate: collateRecords, seed: 0 });
    const history = await trainer.run();
    expect(history).toHaveLength(30);
    expect(history[29].loss).toBeLessThan(history[0].loss / 2);
    trainer.optimizer.dispose();
    model.dispose();
  });

  it("keeps the tensor count constant from step to step", async () => {
    const model = buildModel();
    const counts: number[] = [];
    const trainer = new Trainer({
      model,
      training: { ...TRAINING, steps: 8, gradientAccumulation: 2 },
      records: [0, 1, 2, 3, 4, 5],
      collate: collateRecords,
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
      const model = buildModel();
      const trainer = new Trainer({ model, training: { ...TRAINING, steps: 3, batchSize, gradientAccumulation }, records: [0, 1, 2, 3], collate: collateRecords, seed: 0 });
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
    const model = buildModel();
    const poisoned = async (records: number[]) => {
      const loaded = await collateRecords(records);
      const pixels = loaded.batch.encoderInputs!.vision.inputs.pixel_values;
      loaded.batch.encoderInputs!.vision.inputs.pixel_values = tf.fill(pixels.shape, NaN);
      pixels.dispose();
      return loaded;
    };
    const trainer = new Trainer({ model, training: { ...TRAINING, steps: 2, batchSize: 2 }, records: [5, 6], collate: poisoned, seed: 0 });
    await expect(trainer.run()).rejects.toThrow(NonFiniteLossError);
    await expect(
      new Trainer({ model, training: { ...TRAINING, steps: 2, batchSize: 2 }, records: [5, 6], collate: poisoned, seed: 0 }).run(),
    ).rejects.toThrow(/^step 1: the loss \(NaN\) or gradient norm \(NaN\) is not finite for records [56], [56]/);
    model.dispose();
  });
});
