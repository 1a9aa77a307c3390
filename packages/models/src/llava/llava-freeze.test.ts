import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLogger, type MultimodalBatch, type MultimodalModel, type TrainModes } from "@mm/core";
import { TEST_BACKENDS, useBackend } from "@mm/core/testing";
import { disposeBatch, LLAVA_FIXTURE, llavaBatch, llavaPixelValues } from "./llava-fixture";
import { loadLlava } from "./index";

const log = getLogger("llava-freeze");

// Every activation of the fixture's CLIP tower has 17 rows per image (16 patches and the class
// token). No tensor of the projector or the Llama model has a dimension of 17, because they use
// 2, 16, 23, 24, 32, 64, 128 and 512. So a kernel with a 17-sized input or output is encoder work.
const ENCODER_ROWS = 17;

const FREEZE_MODES = {
  everything: {},
  frozenEncoder: { encodersMode: { vision: [false, true] }, llmMode: true },
  frozenEncoderAndProjector: { encodersMode: { vision: [false, false] }, llmMode: true },
  projectorOnly: { encodersMode: { vision: [false, true] }, llmMode: false },
} satisfies Record<string, TrainModes>;

interface Measurement {
  /** Peak tensor bytes during the call, above the bytes held before it. */
  peakBytes: number;
  /** Kernels with a 17-row input or output: the encoder's forward and backward work. */
  encoderKernels: number;
}

function isEncoderKernel(kernel: { inputShapes: Array<number[] | null>; outputShapes: number[][] }): boolean {
  return [...kernel.inputShapes, ...kernel.outputShapes].some((shape) => shape?.includes(ENCODER_ROWS) ?? false);
}

async function measure(body: () => void): Promise<Measurement> {
  const before = tf.memory().numBytes;
  const profile = await tf.profile(body);
  return { peakBytes: profile.peakBytes - before, encoderKernels: profile.kernels.filter(isEncoderKernel).length };
}

function gradientStep(model: MultimodalModel, batch: MultimodalBatch): void {
  const { loss, grads } = model.computeGradients(batch);
  tf.dispose([loss, ...Object.values(grads)]);
}

/** Computes the same gradients without precomputing frozen features, so a frozen encoder runs inside the tape. */
function gradientStepInsideTape(model: MultimodalModel, batch: MultimodalBatch): void {
  const trainable = model.trainableParameters();
  const { value, grads } = tf.variableGrads(() => {
    const { loss, logits } = model.forward(batch);
    logits.dispose();
    return loss as tf.Scalar;
  }, trainable);
  tf.dispose([value, ...Object.values(grads)]);
}

describe.each(TEST_BACKENDS)("LLaVA freezing on %s", (backend) => {
  let model: MultimodalModel;
  let batch: MultimodalBatch;
  const peaks: Record<string, number> = {};

  beforeAll(async () => {
    await useBackend(backend);
    model = loadLlava(LLAVA_FIXTURE);
    batch = llavaBatch();
  });

  afterAll(() => {
    const parts = Object.entries(peaks).map(([mode, bytes]) => `${mode} ${bytes}`);
    log.debug(`llava on ${backend}: peak tensor bytes of one gradient step: ${parts.join(", ")}`);
    disposeBatch(batch);
    model.dispose();
  });

  it("keeps a frozen encoder's activations out of the tape", async () => {
    model.train(FREEZE_MODES.everything);
    const trainable = await measure(() => gradientStep(model, batch));
    model.train(FREEZE_MODES.frozenEncoder);
    const frozen = await measure(() => gradientStep(model, batch));
    const frozenInsideTape = await measure(() => gradientStepInsideTape(model, batch));
    Object.assign(peaks, { everything: trainable.peakBytes, frozenEncoder: frozen.peakBytes, frozenEncoderInsideTape: frozenInsideTape.peakBytes });

    expect(frozen.peakBytes).toBeLessThan(trainable.peakBytes);
    expect(frozen.peakBytes).toBeLessThan(frozenInsideTape.peakBytes);
  });

  it("runs no encoder backward kernels when the encoder is frozen", async () => {
    const pixelValues = llavaPixelValues();
    const forwardOnly = await measure(() => tf.dispose(model.encoders.vision.encode({ pixel_values: pixelValues })));
    pixelValues.dispose();

    model.train(FREEZE_MODES.everything);
    const trainable = await measure(() => gradientStep(model, batch));
    model.train(FREEZE_MODES.frozenEncoderAndProjector);
    const frozen = await measure(() => gradientStep(model, batch));
    model.train(FREEZE_MODES.projectorOnly);
    const projectorOnly = await measure(() => gradientStep(model, batch));
    Object.assign(peaks, { frozenEncoderAndProjector: frozen.peakBytes, projectorOnly: projectorOnly.peakBytes });

    expect(forwardOnly.encoderKernels).toBeGreaterThan(0);
    expect(frozen.encoderKernels).toBe(forwardOnly.encoderKernels);
    expect(projectorOnly.encoderKernels).toBe(forwardOnly.encoderKernels);
    expect(trainable.encoderKernels).toBeGreaterThan(forwardOnly.encoderKernels);
  });

  it("runs a frozen encoder and projector while no tape records", () => {
    const vision = model.encoders.vision;
    const tapeOn: Record<string, boolean[]> = { encoder: [], projector: [] };
    const encoderForward = vision.module.forward.bind(vision.module);
    const projectorForward = vision.projector!.forward.bind(vision.projector);
    vision.module.forward = (inputs, options) => {
      tapeOn.encoder.push(tf.engine().isTapeOn());
      return encoderForward(inputs, options);
    };
    vision.projector!.forward = (features) => {
      tapeOn.projector.push(tf.engine().isTapeOn());
      return projectorForward(features);
    };
    try {
      model.train(FREEZE_MODES.frozenEncoderAndProjector);
      gradientStep(model, batch);
      model.train(FREEZE_MODES.everything);
      gradientStep(model, batch);
    } finally {
      vision.module.forward = encoderForward;
      vision.projector!.forward = projectorForward;
    }
    expect(tapeOn).toEqual({ encoder: [false, true], projector: [false, true] });
  });
});
