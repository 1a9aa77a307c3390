import * as tf from "@tensorflow/tfjs";
import { ModalEncoderModule, MultimodalModel } from "@mm/core";
import { ToyEncoder, ToyLanguageModel, useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { fixturePath } from "../image/test-support/fixtures";
import { CLIPImageProcessor } from "../image/image-processor";
import { Tokenizer } from "../tokenizer/tokenizer";
import { LLAMA2_TOKENIZER_DIR } from "../tokenizer/test-fixture-paths";
import { imageEncoderProcessor } from "./encoder-processor";
import { MultimodalProcessor } from "./multimodal-processor";

const FEATURES = 4;

function setup() {
  const model = new MultimodalModel({
    encoders: {
      vision: new ModalEncoderModule({
        model: new ToyEncoder(768, 8, "pixel_values", FEATURES),
        // [K, 3, 32, 32] -> [K, 4, 768]: four feature rows per image for the toy encoder.
        preprocessCallback: (inputs) => ({ pixel_values: inputs.pixel_values.reshape([-1, FEATURES, 768]) }),
      }),
    },
    languageModel: new ToyLanguageModel(32000, 16),
    initProjectorType: "linear",
  });
  const imageProcessor = new CLIPImageProcessor({ size: { shortest_edge: 32 }, crop_size: { height: 32, width: 32 } });
  const processor = new MultimodalProcessor({
    encoderProcessors: { vision: imageEncoderProcessor(imageProcessor) },
    tokenizer: Tokenizer.fromPretrained(LLAMA2_TOKENIZER_DIR),
    model,
    predefinedTokens: { vision: "<image>" },
  });
  return { model, processor };
}

beforeAll(async () => {
  await useBackend("wasm");
});

describe("MultimodalProcessor", () => {
  it("registers the modality token on the tokenizer and the model", () => {
    const { model, processor } = setup();
    expect(processor.modalityTokenIds).toEqual({ vision: 32000 });
    expect(model.modalityTokenIds).toEqual({ vision: 32000 });
    model.dispose();
  });

  it("expands each image token to the encoder's feature count and batches conversations", async () => {
    const { model, processor } = setup();
    const batch = await processor.processConversations([
      { conversations: [{ from: "human", value: "<image>\nWhat is it?" }, { from: "gpt", value: "A camera." }], inputs: { vision: [fixturePath("camera.png")] } },
      { conversations: [{ from: "human", value: "Hi" }, { from: "gpt", value: "Hello." }], inputs: {} },
    ]);
    const ids = batch.input_ids.arraySync() as number[][];
    expect(ids[0].filter((id) => id === 32000)).toHaveLength(FEATURES);
    expect(ids[1].filter((id) => id === 32000)).toHaveLength(0);
    const labels = batch.labels!.arraySync() as number[][];
    ids[0].forEach((id, t) => {
      if (id === 32000) expect(labels[0][t]).toBe(-100);
    });
    expect(batch.encoderInputs!.vision.inputsPerSample).toEqual([1, 0]);
    expect(batch.encoderInputs!.vision.inputs.pixel_values.shape).toEqual([1, 3, 32, 32]);
    const { logits, loss } = model.forward(batch);
    expect(Number.isFinite(loss!.dataSync()[0])).toBe(true);
    tf.dispose([logits, loss!, batch.input_ids, batch.attention_mask!, batch.labels!, batch.encoderInputs!.vision.inputs.pixel_values]);
    model.dispose();
  });

  it("truncates conversations on the tokenizer's truncation side", async () => {
    const processor = new MultimodalProcessor({
      encoderProcessors: { vision: imageEncoderProcessor(new CLIPImageProcessor({ size: { shortest_edge: 32 }, crop_size: { height: 32, width: 32 } })) },
      tokenizer: Tokenizer.fromPretrained(LLAMA2_TOKENIZER_DIR, { truncationSide: "left" }),
      numFeatureFns: { vision: () => FEATURES },
    });
    const conversations = [{ from: "human" as const, value: "A long question about many things" }, { from: "gpt" as const, value: "Yes." }];
    const full = await processor.processConversations([{ conversations, inputs: {} }]);
    const cut = await processor.processConversations([{ conversations, inputs: {} }], { maxLength: 5 });

    const fullIds = (full.input_ids.arraySync() as number[][])[0];
    expect(cut.input_ids.arraySync()).toEqual([fullIds.slice(-5)]);
    expect(cut.labels!.arraySync()).toEqual([(full.labels!.arraySync() as number[][])[0].slice(-5)]);
    tf.dispose([full.input_ids, full.attention_mask!, full.labels!, cut.input_ids, cut.attention_mask!, cut.labels!]);
  });

  it("names the sample when image tokens and images disagree", async () => {
    const { model, processor } = setup();
    const request = [{ conversations: [{ from: "human" as const, value: "<image> and <image>" }, { from: "gpt" as const, value: "Two." }], inputs: { vision: [fixturePath("camera.png")] } }];
    await expect(processor.processConversations(request)).rejects.toThrow(/vision: sample 0 has 2 vision tokens .* but 1 vision inputs/);
    model.dispose();
  });

  it("names the file of an image that cannot be decoded", async () => {
    const { model, processor } = setup();
    const request = [{ conversations: [{ from: "human" as const, value: "<image>" }, { from: "gpt" as const, value: "?" }], inputs: { vision: [fixturePath("truncated.jpg")] } }];
    await expect(processor.processConversations(request)).rejects.toThrow(/cannot decode image .*truncated\.jpg/);
    model.dispose();
  });
});
