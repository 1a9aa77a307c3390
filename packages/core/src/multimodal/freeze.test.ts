import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors/errors";
import { manualSeed } from "../random/seeded-random";
import { countLeakedTensors, TEST_BACKENDS, ToyEncoder, ToyLanguageModel, useBackend } from "../testing";
import type { EncoderModes, TrainModes } from "./freeze-modes";
import { ModalEncoderModule } from "./modal-encoder-module";
import { MultimodalModel, type MultimodalBatch } from "./multimodal-model";
import { MultimodalProjector } from "./projector";

const VOCAB = 20;
const VISION = 20;
const AUDIO = 21;

function buildModel(): MultimodalModel {
  manualSeed(5);
  const model = new MultimodalModel({
    encoders: {
      vision: new ModalEncoderModule({ model: new ToyEncoder(6, 8), projector: new MultimodalProjector({ inFeatures: 8, outFeatures: 12 }) }),
      audio: new ModalEncoderModule({ model: new ToyEncoder(5, 4, "input_features"), projector: new MultimodalProjector({ inFeatures: 4, outFeatures: 12 }) }),
    },
    languageModel: new ToyLanguageModel(VOCAB, 12),
  });
  model.setModalityTokenIds({ vision: VISION, audio: AUDIO });
  return model;
}

function buildBatch(): MultimodalBatch {
  const [V, A] = [VISION, AUDIO];
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

/** Whether `path` should train under `modes`, read from the parameter path alone. */
function expectedTrainable(path: string, modes: { encodersMode: EncoderModes; llmMode: boolean }): boolean {
  if (path.startsWith("language_model.")) return modes.llmMode;
  const [, modality, part] = /^(\w+)_encoder\.(module|projector)\./.exec(path)!;
  return modes.encodersMode[modality][part === "module" ? 0 : 1];
}

/**
 * Applies a plain AdamW step with decoupled weight decay on every parameter that has a gradient, with
 * moments created on first use, so the state shows which parameters the optimizer touched.
 */
function adamWStep(parameters: Map<string, tf.Variable>, grads: tf.NamedTensorMap, state: Map<string, { m: tf.Tensor; v: tf.Tensor }>, step: number): void {
  const [lr, beta1, beta2, eps, weightDecay] = [1e-2, 0.9, 0.999, 1e-8, 0.1];
  for (const [path, gradient] of Object.entries(grads)) {
    const parameter = parameters.get(path)!;
    const previous = state.get(path) ?? { m: tf.zerosLike(parameter), v: tf.zerosLike(parameter) };
    const next = tf.tidy(() => ({ m: tf.add(tf.mul(previous.m, beta1), tf.mul(gradient, 1 - beta1)), v: tf.add(tf.mul(previous.v, beta2), tf.mul(tf.square(gradient), 1 - beta2)) }));
    tf.dispose([previous.m, previous.v]);
    state.set(path, next);
    tf.tidy(() => {
      const update = tf.div(tf.div(next.m, 1 - beta1 ** step), tf.add(tf.sqrt(tf.div(next.v, 1 - beta2 ** step)), eps));
      parameter.assign(tf.sub(tf.mul(parameter, 1 - lr * weightDecay), tf.mul(update, lr)));
    });
  }
}

const MODES: Array<{ name: string; modes: TrainModes }> = [
  { name: "everything", modes: {} },
  { name: "projectors only (LLaVA stage 1)", modes: { encodersMode: { vision: [false, true], audio: [false, true] }, llmMode: false } },
  { name: "projectors and LLM (LLaVA stage 2)", modes: { encodersMode: { vision: [false, true], audio: [false, true] }, llmMode: true } },
  { name: "LLM only", modes: { encodersMode: { vision: [false, false], audio: [false, false] }, llmMode: true } },
  { name: "vision encoder behind a frozen projector", modes: { encodersMode: { vision: [true, false], audio: [false, false] }, llmMode: false } },
];

describe.each(TEST_BACKENDS)("MultimodalModel freezing on %s", (backend) => {
  it.each(MODES)("keeps frozen parameters fixed: $name", async ({ modes }) => {
    await useBackend(backend);
    const model = buildModel().train(modes);
    const resolved = model.trainModes();
    const batch = buildBatch();
    const parameters = new Map(model.namedParameters());
    const before = new Map([...parameters].map(([path, variable]) => [path, Float32Array.from(variable.dataSync())]));
    const trainablePaths = [...parameters.keys()].filter((path) => expectedTrainable(path, resolved)).sort();
    const state = new Map<string, { m: tf.Tensor; v: tf.Tensor }>();

    const leaked = await countLeakedTensors(() => {
      for (let step = 1; step <= 3; step++) {
        const { loss, grads } = model.computeGradients(batch);
        expect(Object.keys(grads).sort()).toEqual(trainablePaths);
        adamWStep(parameters, grads, state, step);
        tf.dispose([loss, ...Object.values(grads)]);
      }
      for (const { m, v } of state.values()) tf.dispose([m, v]);
    });

    expect(leaked).toBe(0);
    expect([...state.keys()].sort()).toEqual(trainablePaths);
    for (const [path, variable] of parameters) {
      const unchanged = Buffer.from(variable.dataSync().buffer).equals(Buffer.from(before.get(path)!.buffer));
      expect(unchanged, path).toBe(!trainablePaths.includes(path));
    }
    disposeBatch(batch);
    model.dispose();
  });

  it("runs frozen encoders outside the gradient tape", async () => {
    await useBackend(backend);
    const model = buildModel();
    const tapeOn: Record<string, boolean[]> = { vision: [], audio: [] };
    for (const modality of ["vision", "audio"]) {
      const encoder = model.encoders[modality].module;
      const forward = encoder.forward.bind(encoder);
      encoder.forward = (inputs, options) => {
        tapeOn[modality].push(tf.engine().isTapeOn());
        return forward(inputs, options);
      };
    }
    const batch = buildBatch();

    model.train({ encodersMode: { vision: [false, true], audio: [true, true] } });
    const { loss, grads } = model.computeGradients(batch);
    tf.dispose([loss, ...Object.values(grads)]);

    expect(tapeOn).toEqual({ vision: [false], audio: [true] });
    disposeBatch(batch);
    model.dispose();
  });
});

describe("MultimodalModel train and eval", () => {
  it("eval switches to inference and keeps the freeze settings", async () => {
    await useBackend("wasm");
    const model = buildModel().train({ encodersMode: { vision: [false, true] }, llmMode: false });
    const batch = buildBatch();
    const trainingLogits = model.forward(batch).logits;

    expect(model.eval()).toBe(model);
    expect(model.training).toBe(false);
    expect(model.trainModes()).toEqual({ encodersMode: { vision: [false, true], audio: [false, false] }, llmMode: false });
    const evalLogits = model.forward(batch).logits;
    expect(Array.from(evalLogits.dataSync())).toEqual(Array.from(trainingLogits.dataSync()));

    model.train();
    expect(model.training).toBe(true);
    expect(model.trainableParameters()).toHaveLength(model.parameters().length);
    tf.dispose([trainingLogits, evalLogits]);
    disposeBatch(batch);
    model.dispose();
  });

  it("rejects computing gradients with every part frozen", async () => {
    await useBackend("wasm");
    const model = buildModel().train({ llmMode: false });
    const batch = buildBatch();
    expect(() => model.computeGradients(batch)).toThrow(ConfigError);
    expect(() => model.computeGradients(batch)).toThrow(/no trainable parameters: every part of the model is frozen/);
    disposeBatch(batch);
    model.dispose();
  });
});
