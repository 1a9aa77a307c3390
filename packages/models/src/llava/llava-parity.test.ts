import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLogger, maskModalityIds, readSafetensors, type MultimodalModel } from "@mm/core";
import { assertClose, countLeakedTensors, TEST_BACKENDS, useBackend } from "@mm/core/testing";
import { disposeBatch, LLAVA_FIXTURE, llavaBatch, llavaIntOutput, llavaOutput, llavaPixelValues, llavaRefs } from "./llava-fixture";
import { llavaCheckpointName, loadLlava } from "./index";

const log = getLogger("llava-parity");

/**
 * The loss does not depend on the key bias: it adds q·b to every score of a query's row, and
 * softmax removes a constant shift. Both its gradients are rounding noise (transformers': 4e-9 at
 * most), so the test checks that they are near zero instead of comparing them.
 */
const KEY_BIAS = "vision_tower.vision_model.encoder.layers.0.self_attn.k_proj.bias";

function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]));
  return max;
}

/** Float32 gradients that transformers computed, by checkpoint name (46 of the 64 tensors). */
function referenceGradients(): Map<string, Float32Array> {
  const { tensors } = readSafetensors(join(LLAVA_FIXTURE, "grads.safetensors"));
  return new Map([...tensors].map(([name, entry]) => [name, entry.values as Float32Array]));
}

describe.each(TEST_BACKENDS)("LLaVA fixture on %s", (backend) => {
  let model: MultimodalModel;
  const errors: Record<string, number> = {};

  beforeAll(async () => {
    await useBackend(backend);
    model = loadLlava(LLAVA_FIXTURE);
  });

  afterAll(() => {
    model.dispose();
    const parts = Object.entries(errors).map(([key, error]) => `${key} ${error.toExponential(2)}`);
    log.debug(`llava on ${backend}: max relative error ${parts.join(", ")}`);
  });

  it("takes the image token and feature count from the config", () => {
    expect(model.modalityTokenIds).toEqual({ vision: llavaRefs.image_token_index });
    expect(model.encoders.vision.featuresPerInput).toBe(llavaRefs.num_image_tokens_per_image);
    expect(model.namedParameters()).toHaveLength(64);
  });

  it("matches transformers' image features", () => {
    const pixelValues = llavaPixelValues();
    const features = model.encoders.vision.forward({ pixel_values: pixelValues });
    expect(features.shape).toEqual([2, 16, 64]);
    errors.image_features = assertClose(features, llavaOutput("image_features"), 1e-4, "image_features");
    tf.dispose([features, pixelValues]);
  });

  it("embeds the text with image token ids masked to 0", () => {
    const ids = Int32Array.from(llavaRefs.inputs.input_ids_expanded.flat());
    const masked = maskModalityIds(ids, [llavaRefs.image_token_index]);
    expect(Array.from(masked)).toEqual(Array.from(llavaIntOutput("input_ids_cornstarch")));
    const maskedIds = tf.tensor2d(masked, [2, 24], "int32");
    const embeds = model.languageModel.embedTokens(maskedIds);
    errors.inputs_embeds = assertClose(embeds, llavaOutput("inputs_embeds_cornstarch"), 1e-4, "inputs_embeds_cornstarch");
    tf.dispose([maskedIds, embeds]);
  });

  it("matches the merged embeddings", () => {
    const batch = llavaBatch(false);
    const merged = model.embedInputs(batch);
    errors.merged_embeds = assertClose(merged, llavaOutput("merged_embeds_cornstarch"), 1e-4, "merged_embeds_cornstarch");
    assertClose(merged, llavaOutput("merged_embeds_hf"), 1e-4, "merged_embeds_hf");
    merged.dispose();
    disposeBatch(batch);
  });

  it("matches the logits without labels", () => {
    const batch = llavaBatch(false);
    const { logits, loss } = model.forward(batch);
    expect(loss).toBeUndefined();
    errors.logits = assertClose(logits, llavaOutput("logits_new_style"), 1e-4, "logits_new_style");
    logits.dispose();
    disposeBatch(batch);
  });

  it("matches the loss and every gradient", async () => {
    const batch = llavaBatch();
    const reference = referenceGradients();
    const leaked = await countLeakedTensors(() => {
      const { loss, grads } = model.computeGradients(batch);
      const expectedLoss = llavaRefs.outputs.loss_new_style;
      errors.loss = Math.abs(loss.dataSync()[0] - expectedLoss) / Math.abs(expectedLoss);
      expect(errors.loss).toBeLessThan(1e-4);

      const named = new Map(Object.entries(grads).map(([path, gradient]) => [llavaCheckpointName(path), gradient]));
      expect([...named.keys()].sort()).toEqual([...reference.keys()].sort());
      errors.gradients = 0;
      for (const [name, expected] of reference) {
        const actual = named.get(name)!;
        if (name === KEY_BIAS) {
          expect(maxAbs(actual.dataSync()), name).toBeLessThan(1e-6);
          expect(maxAbs(expected), name).toBeLessThan(1e-6);
          continue;
        }
        errors.gradients = Math.max(errors.gradients, assertClose(actual, expected, 1e-4, `gradient of ${name}`));
      }
      tf.dispose([loss, ...Object.values(grads)]);
    });
    expect(leaked).toBe(0);
    disposeBatch(batch);
  });

  it("gives no gradient to the layers after vision_feature_layer", () => {
    const batch = llavaBatch();
    const { loss, grads } = model.computeGradients(batch);
    const withoutGradient = model
      .namedParameters()
      .map(([path]) => path)
      .filter((path) => grads[path] === undefined);
    expect(withoutGradient.every((path) => /^vision_encoder\.module\.vision_model\.(encoder\.layers\.1\.|post_layernorm\.)/.test(path))).toBe(true);
    expect(withoutGradient).toHaveLength(18);
    tf.dispose([loss, ...Object.values(grads)]);
    disposeBatch(batch);
  });
});
