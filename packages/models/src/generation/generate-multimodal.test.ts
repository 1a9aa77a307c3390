import * as tf from "@tensorflow/tfjs";
import { countLeakedTensors, TEST_BACKENDS, useBackend } from "@mm/core/testing";
import { describe, expect, it } from "vitest";
import { loadLlava } from "../llava/load-llava";
import { disposeBatch, LLAVA_FIXTURE, llavaBatch } from "../llava/llava-fixture";
import { generateMultimodal } from "./generate-multimodal";

/** Greedy continuation of row 0 by full forward passes, appending one token at a time. */
function greedyByFullForward(model: ReturnType<typeof loadLlava>, steps: number): number[] {
  const batch = llavaBatch(false);
  const length = batch.attention_mask!.sum(1).dataSync()[0]; // row 0's unpadded length
  let ids = Array.from((batch.input_ids.arraySync() as number[][])[0].slice(0, length));
  const pixels = batch.encoderInputs!.vision.inputs.pixel_values.slice([0], [1]);
  const tokens: number[] = [];
  for (let step = 0; step < steps; step++) {
    const inputIds = tf.tensor2d([ids], undefined, "int32");
    const { logits } = model.forward({ input_ids: inputIds, encoderInputs: { vision: { inputs: { pixel_values: pixels }, inputsPerSample: [1] } } });
    const next = tf.tidy(() => logits.slice([0, ids.length - 1], [1, 1]).argMax(-1).dataSync()[0]);
    tf.dispose([inputIds, logits]);
    tokens.push(next);
    ids = [...ids, next];
  }
  tf.dispose(pixels);
  disposeBatch(batch);
  return tokens;
}

describe.each(TEST_BACKENDS)("generateMultimodal on %s", (backend) => {
  it("decodes with the cache what full forward passes choose, and leaks nothing", async () => {
    await useBackend(backend);
    const model = loadLlava(LLAVA_FIXTURE);
    const expected = greedyByFullForward(model, 5);
    const batch = llavaBatch(false);
    const length = batch.attention_mask!.sum(1).dataSync()[0];
    const single = {
      input_ids: batch.input_ids.slice([0, 0], [1, length]),
      attention_mask: batch.attention_mask!.slice([0, 0], [1, length]),
      encoderInputs: { vision: { inputs: { pixel_values: batch.encoderInputs!.vision.inputs.pixel_values.slice([0], [1]) }, inputsPerSample: [1] } },
    };
    let tokens: number[] = [];
    const leaked = await countLeakedTensors(() => {
      tokens = generateMultimodal(model, single, { max_new_tokens: 5, eos_token_id: null }).newTokens[0];
    });
    expect(tokens).toEqual(expected);
    expect(leaked).toBe(0);
    tf.dispose([single.input_ids, single.attention_mask, single.encoderInputs.vision.inputs.pixel_values]);
    disposeBatch(batch);
    model.dispose();
  });
});
