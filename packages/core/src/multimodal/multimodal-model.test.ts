import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, ShapeError } from "../errors/errors";
import { setLogSink } from "../logging/logger";
import { manualSeed } from "../random/seeded-random";
import { countLeakedTensors, ToyEncoder, ToyLanguageModel, useBackend } from "../testing";
import { ModalEncoderModule } from "./modal-encoder-module";
import { MultimodalModel, type MultimodalBatch } from "./multimodal-model";
import { MultimodalProjector } from "./projector";

const VOCAB = 20;
const VISION = 20; // ids past the vocabulary, as the processor appends them
const AUDIO = 21;

function buildModel(): MultimodalModel {
  manualSeed(1);
  const model = new MultimodalModel({
    encoders: {
      vision: new ModalEncoderModule({ model: new ToyEncoder(6, 8), projector: new MultimodalProjector({ inFeatures: 8, outFeatures: 12 }) }),
      audio: new ModalEncoderModule({ model: new ToyEncoder(5, 4, "input_features"), projector: new MultimodalProjector({ inFeatures: 4, outFeatures: 12, projectionType: "linear" }) }),
    },
    languageModel: new ToyLanguageModel(VOCAB, 12),
  });
  model.setModalityTokenIds({ vision: VISION, audio: AUDIO });
  return model;
}

/** Two samples: one image (2 rows) and one audio clip (3 rows) in sample 0, one image in sample 1. */
function buildBatch(): MultimodalBatch {
  const V = VISION;
  const A = AUDIO;
  return {
    input_ids: tf.tensor2d([[1, V, V, 3, A, A, A, 4], [1, 5, V, V, 6, 7, 0, 0]], undefined, "int32"),
    attention_mask: tf.tensor2d([[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0, 0]], undefined, "int32"),
    labels: tf.tensor2d([[1, V, V, 3, A, A, A, 4], [1, 5, V, V, 6, 7, -100, -100]], undefined, "int32"),
    encoderInputs: {
      vision: { inputs: { pixel_values: tf.randomNormal([2, 2, 6], 0, 1, "float32", 3) }, inputsPerSample: [1, 1] },
      audio: { inputs: { input_features: tf.randomNormal([1, 3, 5], 0, 1, "float32", 4) }, inputsPerSample: [1, 0] },
    },
  };
}

function disposeBatch(batch: MultimodalBatch): void {
  tf.dispose([batch.input_ids, batch.attention_mask!, batch.labels!]);
  for (const entry of Object.values(batch.encoderInputs ?? {})) tf.dispose(Object.values(entry.inputs));
}

beforeAll(async () => {
  await useBackend("wasm");
});

describe("MultimodalModel", () => {
  it("takes the loss only on text targets, with -100 at placeholders", () => {
    const model = buildModel();
    const batch = buildBatch();
    const { logits, loss } = model.forward(batch);
    expect(logits.shape).toEqual([2, 8, VOCAB]);
    // Next-token targets that are neither placeholders nor padding: sample 0: 3 (after V), 4; sample 1: 5, 6, 7.
    const targets = [[0, 2, 3], [0, 6, 4], [1, 0, 5], [1, 3, 6], [1, 4, 7]];
    const expected = tf.tidy(() => {
      const logProbabilities = tf.logSoftmax(logits) as tf.Tensor3D;
      const values = logProbabilities.arraySync();
      return -targets.reduce((sum, [b, t, id]) => sum + values[b][t][id], 0) / targets.length;
    });
    expect(loss!.dataSync()[0]).toBeCloseTo(expected, 5);
    tf.dispose([logits, loss!]);
    disposeBatch(batch);
    model.dispose();
  });

  it("works without labels and for a text-only batch", () => {
    const model = buildModel();
    const ids = tf.tensor2d([[1, 2, 3]], undefined, "int32");
    const { logits, loss } = model.forward({ input_ids: ids });
    expect(loss).toBeUndefined();
    expect(logits.shape).toEqual([1, 3, VOCAB]);
    tf.dispose([ids, logits]);
    model.dispose();
  });

  it("gives gradients only to trainable parts and leaks nothing", async () => {
    const model = buildModel();
    model.train({ encodersMode: { vision: [false, true], audio: [false, false] }, llmMode: false });
    const batch = buildBatch();
    const leaked = await countLeakedTensors(() => {
      const { loss, grads } = model.computeGradients(batch);
      expect(Object.keys(grads).sort()).toEqual([
        "vision_encoder.projector.projection.in_proj.bias",
        "vision_encoder.projector.projection.in_proj.weight",
        "vision_encoder.projector.projection.out_proj.bias",
        "vision_encoder.projector.projection.out_proj.weight",
      ]);
      for (const gradient of Object.values(grads)) expect(gradient.dataSync().some((value) => value !== 0)).toBe(true);
      tf.dispose([loss, ...Object.values(grads)]);
    });
    expect(leaked).toBe(0);
    disposeBatch(batch);
    model.dispose();
  });

  it("trains everything by default, following llmMode without encodersMode", () => {
    const model = buildModel();
    expect(model.trainableParameters().length).toBe(model.parameters().length);
    model.train({ llmMode: false });
    expect(model.trainableParameters()).toHaveLength(0);
    model.train({ encodersMode: { audio: [true, false] }, llmMode: false });
    expect(model.trainableParameters().map((v) => v.shape)).toEqual([[4, 5], [4]]);
    model.dispose();
  });

  it("rejects an unknown encodersMode key and a malformed mode", () => {
    const model = buildModel();
    expect(() => model.train({ encodersMode: { video: [true, true] } })).toThrow(ConfigError);
    expect(() => model.train({ encodersMode: { video: [true, true] } })).toThrow(/unknown modality "video"; this model has "vision", "audio"/);
    expect(() => model.train({ encodersMode: { vision: [true] as unknown as [boolean, boolean] } })).toThrow(/expected \[encoderTrainable, projectorTrainable\]/);
    model.dispose();
  });

  it("names the modality and sample when placeholders and features disagree", () => {
    const model = buildModel();
    const batch = buildBatch();
    batch.encoderInputs!.vision.inputsPerSample = [2, 0];
    expect(() => model.forward(batch)).toThrow(/vision: sample 0 has 2 placeholder tokens but the encoder produced 4 feature rows/);
    disposeBatch(batch);
    model.dispose();
  });

  it("creates a missing projector with a warning and checks given projector sizes", () => {
    const lines: string[] = [];
    const previous = setLogSink((level, _scope, message) => lines.push(`${level}: ${message}`));
    const model = new MultimodalModel({ encoders: { vision: new ModalEncoderModule({ model: new ToyEncoder(6, 8) }) }, languageModel: new ToyLanguageModel(VOCAB, 12), initProjectorType: "linear" });
    setLogSink(previous);
    expect(lines).toEqual(['warn: vision: no projector given; creating a "linear" projector 8 -> 12 with random weights']);
    expect(model.encoders.vision.projector!.outFeatures).toBe(12);
    model.dispose();
    const wrong = () =>
      new MultimodalModel({
        encoders: { vision: new ModalEncoderModule({ model: new ToyEncoder(6, 8), projector: new MultimodalProjector({ inFeatures: 8, outFeatures: 10 }) }) },
        languageModel: new ToyLanguageModel(VOCAB, 12),
      });
    expect(wrong).toThrow(ShapeError);
    expect(wrong).toThrow(/vision: the projector maps 8 -> 10 features but the encoder outputs 8 and the language model expects 12/);
  });
});
