import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { InputError, type MultimodalBatch } from "@mm/core";
import { useBackend } from "@mm/core/testing";
import type { ConversationSample, MultimodalProcessor } from "@mm/processor";
import { beforeAll, describe, expect, it } from "vitest";
import { disposeBatch } from "../loop/dispose-batch";
import { buildExampleProcessor, EXAMPLE_IMAGES } from "../test-support/example-processor";
import { recordCollator } from "./record-collator";
import type { TrainingRecord } from "./training-record";

let processor: MultimodalProcessor;
const folder = mkdtempSync(join(tmpdir(), "mm-collate-"));
const CORRUPT = join(folder, "corrupt.png");

beforeAll(async () => {
  await useBackend("wasm");
  processor = await buildExampleProcessor();
  writeFileSync(CORRUPT, readFileSync(join(EXAMPLE_IMAGES, "coffee.png")).subarray(0, 300));
});

function record(id: string, images: string[], human: string, reply = "A photo of something."): TrainingRecord {
  return { id, file: join(folder, "data.json"), images, audios: [], conversations: [{ from: "human", value: human }, { from: "gpt", value: reply }] };
}

const CAT = record("cat", [join(EXAMPLE_IMAGES, "chelsea.png")], "<image>\nDescribe the image briefly.", "A tabby cat.");
const TWO = record("two", [join(EXAMPLE_IMAGES, "coins.png"), join(EXAMPLE_IMAGES, "horse.png")], "Compare <image> with <image>, please.");
const TEXT = record("text", [], "Say hello in French.", "Bonjour.");

async function values(batch: MultimodalBatch): Promise<Record<string, unknown>> {
  const vision = batch.encoderInputs?.vision;
  return {
    input_ids: await batch.input_ids.array(),
    attention_mask: await batch.attention_mask!.array(),
    labels: await batch.labels!.array(),
    pixel_values: vision === undefined ? undefined : Array.from(await vision.inputs.pixel_values.data()),
    inputsPerSample: vision?.inputsPerSample,
  };
}

describe("recordCollator", () => {
  it("builds the batch that processing all records at once builds", async () => {
    const records = [CAT, TEXT, TWO];
    const loaded = await recordCollator(processor, { maxLength: 64 })(records);
    const whole = await processor.processConversations(
      records.map((r): ConversationSample => ({ conversations: r.conversations, inputs: r.images.length === 0 ? {} : { vision: r.images } })),
      { maxLength: 64 },
    );
    expect(loaded.recordIds).toEqual(["cat", "text", "two"]);
    expect(loaded.badRecords).toEqual([]);
    expect(loaded.batch!.input_ids.shape).toEqual(whole.input_ids.shape);
    expect(await values(loaded.batch!)).toEqual(await values(whole));
    expect(loaded.batch!.encoderInputs!.vision.inputsPerSample).toEqual([1, 0, 2]);
    disposeBatch(loaded.batch!);
    disposeBatch(whole);
  });

  it.each([
    ["a missing image", record("gone", [join(folder, "absent.png")], "<image>\nWhat?"), /^image file not found: .*absent\.png.* \(record "gone" in .*data\.json\)$/],
    ["a corrupt image", record("broken", [CORRUPT], "<image>\nWhat?"), /^cannot decode image .*corrupt\.png: .* \(record "broken" in .*data\.json\)$/],
    ["more placeholders than images", record("extra", [join(EXAMPLE_IMAGES, "coins.png")], "<image> and <image>?"), /^vision: sample 0 has 2 vision tokens .* but 1 vision inputs; .* \(record "extra" in /],
    ["an image without a placeholder", record("orphan", [join(EXAMPLE_IMAGES, "coins.png")], "What?"), /has 0 vision tokens .* but 1 vision inputs; .* \(record "orphan" in /],
    ["no supervised token after truncation", record("long", [], "word ".repeat(40)), /^no supervised token left after truncation to data.maxLength 24; .* \(record "long" in /],
  ])("names the record for %s", async (_name, bad, message) => {
    const before = tf.memory().numTensors;
    const attempt = recordCollator(processor, { maxLength: 24 })([CAT, bad]);
    await expect(attempt).rejects.toThrow(InputError);
    await expect(recordCollator(processor, { maxLength: 24 })([CAT, bad])).rejects.toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("names a conversation without a reply", async () => {
    const prompt: TrainingRecord = { ...TEXT, id: "prompt", conversations: [{ from: "human", value: "Hello?" }] };
    await expect(recordCollator(processor)([prompt])).rejects.toThrow(/^the conversation has no supervised token; give it an assistant reply \(record "prompt" in /);
  });

  it("leaves bad records out with skipBadRecords and keeps the others", async () => {
    const bad = record("gone", [join(folder, "absent.png")], "<image>\nWhat?");
    const before = tf.memory().numTensors;
    const loaded = await recordCollator(processor, { skipBadRecords: true })([CAT, bad, TEXT]);
    expect(loaded.recordIds).toEqual(["cat", "text"]);
    expect(loaded.badRecords).toHaveLength(1);
    expect(loaded.badRecords![0]).toMatchObject({ id: "gone", file: join(folder, "data.json") });
    expect(loaded.badRecords![0].reason).toMatch(/^image file not found: .*absent\.png/);
    const alone = await recordCollator(processor)([CAT, TEXT]);
    expect(await values(loaded.batch!)).toEqual(await values(alone.batch!));
    disposeBatch(loaded.batch!);
    disposeBatch(alone.batch!);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("returns no batch when every record is bad", async () => {
    const loaded = await recordCollator(processor, { skipBadRecords: true })([record("gone", [join(folder, "absent.png")], "<image>")]);
    expect(loaded.batch).toBeUndefined();
    expect(loaded.recordIds).toEqual([]);
    expect(loaded.badRecords!.map((r) => r.id)).toEqual(["gone"]);
  });
});
