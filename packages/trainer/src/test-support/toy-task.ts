import * as tf from "@tensorflow/tfjs";
import { manualSeed, ModalEncoderModule, MultimodalModel, MultimodalProjector } from "@mm/core";
import { ToyEncoder, ToyLanguageModel } from "@mm/core/testing";
import { trainingSchema, type TrainingInput, type TrainingOptions } from "../config/training-schema";
import type { LoadedBatch } from "../loop/loaded-batch";

/** Vocabulary of the toy task; id 12 is the image placeholder. */
export const TOY_VOCAB = 13;
export const TOY_IMAGE_TOKEN = 12;

/**
 * Collates toy records: record r is an "image" of 2 feature rows filled with ±r/8, then the text
 * tokens r+1, r+2, r+3, which are trained on. The model can learn to predict them.
 */
export function collateToyRecords(records: number[]): Promise<LoadedBatch> {
  const ids = records.map((r) => [1, TOY_IMAGE_TOKEN, TOY_IMAGE_TOKEN, r + 1, r + 2, r + 3]);
  const labels = ids.map((row) => row.map((id, t) => (t < 3 ? -100 : id)));
  const pixels = records.map((r) => [Array(4).fill(r / 8), Array(4).fill(-r / 8)]);
  return Promise.resolve({
    batch: {
      input_ids: tf.tensor2d(ids, undefined, "int32"),
      attention_mask: tf.ones([records.length, 6], "int32"),
      labels: tf.tensor2d(labels, undefined, "int32"),
      encoderInputs: { vision: { inputs: { pixel_values: tf.tensor3d(pixels) } as Record<string, tf.Tensor>, inputsPerSample: records.map(() => 1) } },
    },
    recordIds: records.map(String),
  });
}

/** Builds a ToyEncoder (4 → 6) with an MLP projector (6 → 8) in front of a ToyLanguageModel (hidden 8), seeded by `seed`. */
export function buildToyModel(seed = 3): MultimodalModel {
  manualSeed(seed);
  const model = new MultimodalModel({
    encoders: { vision: new ModalEncoderModule({ model: new ToyEncoder(4, 6), projector: new MultimodalProjector({ inFeatures: 6, outFeatures: 8 }) }) },
    languageModel: new ToyLanguageModel(TOY_VOCAB, 8),
  });
  model.setModalityTokenIds({ vision: TOY_IMAGE_TOKEN });
  return model;
}

/** Returns training options for the toy task with the config's defaults filled in; `changes` override them. */
export function toyTraining(changes: Partial<TrainingInput> = {}): TrainingOptions {
  return trainingSchema.parse({
    steps: 30,
    batchSize: 4,
    learningRate: 0.05,
    schedule: "constant",
    maxGradNorm: 1,
    logEvery: 1000,
    ...changes,
  });
}

/** Returns every parameter's values by path. */
export function weightsOf(model: MultimodalModel): Map<string, Float32Array> {
  return new Map(model.namedParameters().map(([path, variable]) => [path, variable.dataSync() as Float32Array]));
}
