import * as tf from "@tensorflow/tfjs";
import { useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { buildToyModel, collateToyRecords } from "../test-support/toy-task";
import { disposeBatch } from "./dispose-batch";
import { evaluate } from "./evaluate";

beforeAll(async () => {
  await useBackend("wasm");
});

const RECORDS = [0, 2, 4, 6, 8];

describe("evaluate", () => {
  // Each toy record has 3 trained targets: its text tokens r+1, r+2, r+3.
  it("equals the model's mean token loss over all records, for any batch size", async () => {
    const model = buildToyModel();
    const { batch } = await collateToyRecords(RECORDS);
    const output = model.forward(batch!);
    const expected = output.loss!.dataSync()[0];
    tf.dispose([output.loss!, output.logits]);
    disposeBatch(batch!);

    for (const batchSize of [1, 2, 5]) {
      const metrics = await evaluate(model, RECORDS, collateToyRecords, batchSize, 7);
      expect(metrics.loss).toBeCloseTo(expected, 6);
      expect(metrics.perplexity).toBeCloseTo(Math.exp(expected), 5);
      expect(metrics).toMatchObject({ step: 7, tokens: RECORDS.length * 3, records: RECORDS.length });
    }
    model.dispose();
  });

  it("leaves the train modes and the tensor count as they were", async () => {
    const model = buildToyModel();
    model.train({ llmMode: false, encodersMode: { vision: [false, true] } });
    const before = tf.memory().numTensors;
    await evaluate(model, RECORDS, collateToyRecords, 2, 1);
    expect(tf.memory().numTensors).toBe(before);
    expect(model.training).toBe(true);
    expect(model.trainModes()).toEqual({ llmMode: false, encodersMode: { vision: [false, true] } });
    model.dispose();
  });
});
