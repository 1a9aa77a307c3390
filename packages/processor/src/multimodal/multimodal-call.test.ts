import * as tf from "@tensorflow/tfjs";
import { ConfigError, InputError, getLogLevel, setLogLevel, type LogLevel } from "@mm/core";
import { countLeakedTensors, useBackend } from "@mm/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audioEncoderProcessor } from "../audio/audio-encoder-processor";
import { fixturePath as audioFixture, maxAbsoluteError, readFloat32Reference } from "../audio/test-support/fixtures";
import { loadWhisperFeatureExtractor } from "../audio/whisper-feature-extractor";
import { CLIPImageProcessor, loadImageProcessor } from "../image/image-processor";
import { compareArrays, fixturePath, readPixelValuesReference } from "../image/test-support/fixtures";
import { LLAMA2_TOKENIZER_DIR } from "../tokenizer/test-fixture-paths";
import { Tokenizer } from "../tokenizer/tokenizer";
import { imageEncoderProcessor } from "./encoder-processor";
import { MultimodalProcessor, type MultimodalProcessorOptions, type ProcessorOutput } from "./multimodal-processor";

const IMAGE = 32000;
const FEATURES = 4;
const CAMERA = fixturePath("camera.png");
const HORSE = fixturePath("horse.png");

/** Builds a processor with the Llama 2 tokenizer, `<image>` as the vision token, and 32×32 CLIP images of 4 features. */
function smallProcessor(options: Partial<MultimodalProcessorOptions> = {}): MultimodalProcessor {
  const imageProcessor = new CLIPImageProcessor({ size: { shortest_edge: 32 }, crop_size: { height: 32, width: 32 } });
  return new MultimodalProcessor({
    encoderProcessors: { vision: imageEncoderProcessor(imageProcessor) },
    tokenizer: Tokenizer.fromPretrained(LLAMA2_TOKENIZER_DIR),
    numFeatureFns: { vision: () => FEATURES },
    predefinedTokens: { vision: "<image>" },
    ...options,
  });
}

function rows(tensor: tf.Tensor): number[][] {
  return tensor.arraySync() as number[][];
}

function count(row: readonly number[], id: number): number {
  return row.filter((tokenId) => tokenId === id).length;
}

function disposeOutput(output: ProcessorOutput): void {
  const tensors = [output.input_ids, output.attention_mask];
  for (const { inputs } of Object.values(output.encoderInputs)) tensors.push(...Object.values(inputs));
  tf.dispose(tensors);
}

let previousLogLevel: LogLevel;
let processor: MultimodalProcessor;
beforeAll(async () => {
  await useBackend("wasm");
  previousLogLevel = getLogLevel();
  setLogLevel("error");
  processor = smallProcessor();
});
afterAll(() => setLogLevel(previousLogLevel));

describe("MultimodalProcessor.call", () => {
  const texts = ["<image>\nWhat is it?", "Hello", "<image> and <image>"];

  it("splits a flat image list by token count", async () => {
    const output = await processor.call({ encoderInputs: { vision: { images: [CAMERA, HORSE, CAMERA] } }, llmInputs: { text: texts } });

    expect(output.encoderInputs.vision.inputsPerSample).toEqual([1, 0, 2]);
    expect(output.pixel_values?.shape).toEqual([3, 3, 32, 32]);
    expect(output.pixel_values).toBe(output.encoderInputs.vision.inputs.pixel_values);
    expect(rows(output.input_ids).map((row) => count(row, IMAGE))).toEqual([FEATURES, 0, 2 * FEATURES]);
    expect(output.input_ids.dtype).toBe("int32");
    expect(output.attention_mask.dtype).toBe("int32");
    expect(output).not.toHaveProperty("labels");
    disposeOutput(output);
  });

  it("per-text lists give the same batch", async () => {
    const flat = await processor.call({ encoderInputs: { vision: { images: [CAMERA, HORSE, CAMERA] } }, llmInputs: { text: texts } });
    const nested = await processor.call({ encoderInputs: { vision: { images: [[CAMERA], [], [HORSE, CAMERA]] } }, llmInputs: { text: texts } });

    expect(rows(nested.input_ids)).toEqual(rows(flat.input_ids));
    expect(nested.encoderInputs.vision.inputsPerSample).toEqual([1, 0, 2]);
    expect(nested.pixel_values!.dataSync()).toEqual(flat.pixel_values!.dataSync());
    disposeOutput(flat);
    disposeOutput(nested);
  });

  it("expanded row equals the text with repeated tokens", async () => {
    const output = await processor.call({ encoderInputs: { vision: { images: [CAMERA] } }, llmInputs: { text: "<image>\nWhat is it?" } });
    const tokenizer = processor.tokenizer;
    const repeated = tokenizer.encode("<image>".repeat(FEATURES) + "\nWhat is it?");
    expect(rows(output.input_ids)).toEqual([repeated]);
    expect(rows(output.attention_mask)).toEqual([repeated.map(() => 1)]);
    disposeOutput(output);
  });

  it("pads on the left for generation", async () => {
    const output = await processor.call({ llmInputs: { text: ["Hello", "Hello world, how are you"], paddingSide: "left" } });
    const [short, long] = rows(output.input_ids);
    const [shortMask] = rows(output.attention_mask);
    const shortIds = processor.tokenizer.encode("Hello");
    const padding = long.length - shortIds.length;

    expect(short.slice(padding)).toEqual(shortIds);
    expect(shortMask).toEqual([...Array(padding).fill(0), ...shortIds.map(() => 1)]);
    expect(long).toEqual(processor.tokenizer.encode("Hello world, how are you"));
    disposeOutput(output);
  });

  it("max_length padding", async () => {
    const output = await processor.call({ llmInputs: { text: ["Hello", "Hi there"], padding: "max_length", maxLength: 12 } });
    expect(output.input_ids.shape).toEqual([2, 12]);
    expect(rows(output.attention_mask)[0].slice(0, 3)).toEqual([1, 1, 0]);
    disposeOutput(output);
  });

  it("longest padding ignores maxLength when rows are shorter", async () => {
    const output = await processor.call({ llmInputs: { text: ["Hello", "Hi there"], padding: true, maxLength: 12 } });
    expect(output.input_ids.shape).toEqual([2, processor.tokenizer.encode("Hi there").length]);
    disposeOutput(output);
  });

  it("left truncation keeps the end and its placeholders", async () => {
    const text = "A long preamble that the model does not need to see <image>";
    const output = await processor.call({
      encoderInputs: { vision: { images: [CAMERA] } },
      llmInputs: { text, maxLength: 6, truncationSide: "left" },
    });
    const [row] = rows(output.input_ids);
    expect(row).toHaveLength(6);
    expect(row.slice(-FEATURES)).toEqual(Array(FEATURES).fill(IMAGE));
    disposeOutput(output);
  });

  it("right truncation through placeholders throws", async () => {
    const request = { encoderInputs: { vision: { images: [CAMERA] } }, llmInputs: { text: "Some words first <image>", maxLength: 6 } };
    await expect(processor.call(request)).rejects.toThrow(InputError);
    await expect(processor.call(request)).rejects.toThrow(/^vision: truncating sample 0 .* placeholder tokens \(id 32000\) at its end/);
  });

  it("addSpecialTokens false leaves out BOS", async () => {
    const output = await processor.call({ llmInputs: { text: "Hello", addSpecialTokens: false } });
    expect(rows(output.input_ids)).toEqual([[15043]]);
    disposeOutput(output);
  });

  it("numFeatureFns index counts across the batch", async () => {
    const seen: number[] = [];
    const counting = smallProcessor({ numFeatureFns: { vision: (_input, index) => (seen.push(index), index + 1) } });
    const output = await counting.call({ encoderInputs: { vision: { images: [CAMERA, HORSE, CAMERA] } }, llmInputs: { text: texts } });
    expect(seen).toEqual([0, 1, 2]);
    expect(rows(output.input_ids).map((row) => count(row, IMAGE))).toEqual([1, 0, 2 + 3]);
    disposeOutput(output);
  });

  it("leaks no tensors", async () => {
    const leaked = await countLeakedTensors(async () => {
      disposeOutput(await processor.call({ encoderInputs: { vision: { images: [CAMERA, HORSE, CAMERA] } }, llmInputs: { text: texts } }));
    });
    expect(leaked).toBe(0);
  });

  it("failing image leaks no tensors", async () => {
    const leaked = await countLeakedTensors(async () => {
      const request = { encoderInputs: { vision: { images: [fixturePath("truncated.jpg")] } }, llmInputs: { text: "<image>" } };
      await expect(processor.call(request)).rejects.toThrow(/cannot decode image .*truncated\.jpg/);
    });
    expect(leaked).toBe(0);
  });
});

describe("MultimodalProcessor.call input errors", () => {
  it.each<[string, Parameters<MultimodalProcessor["call"]>[0], RegExp]>([
    [
      "flat list shorter than the tokens",
      { encoderInputs: { vision: { images: [CAMERA] } }, llmInputs: { text: ["<image>", "<image>"] } },
      /^vision: the texts contain 2 vision tokens \(1, 1 per text\) but 1 images were given/,
    ],
    [
      "per-text lists for another number of texts",
      { encoderInputs: { vision: { images: [[CAMERA]] } }, llmInputs: { text: ["<image>", "Hi"] } },
      /^vision: encoderInputs.vision.images has 1 per-text lists for 2 texts/,
    ],
    [
      "per-text list that disagrees with its text",
      { encoderInputs: { vision: { images: [[], [CAMERA]] } }, llmInputs: { text: ["<image>", "Hi"] } },
      /^vision: sample 0 has 1 vision tokens \(id 32000\) in input_ids but 0 vision inputs/,
    ],
    [
      "lists mixed with single inputs",
      { encoderInputs: { vision: { images: [[CAMERA], HORSE] } }, llmInputs: { text: ["<image>", "<image>"] } },
      /^vision: encoderInputs.vision.images mixes lists and single inputs/,
    ],
    [
      "wrong input key",
      { encoderInputs: { vision: { audio: [CAMERA] } }, llmInputs: { text: "<image>" } },
      /^vision: expected encoderInputs.vision to be \{ images: \[...\] \}, found keys \[audio\]/,
    ],
    [
      "unknown modality",
      { encoderInputs: { audio: { audio: [CAMERA] } }, llmInputs: { text: "Hi" } },
      /^encoderInputs has "audio" but this processor has no audio encoder processor; known modalities: vision/,
    ],
    ["token without inputs", { llmInputs: { text: "<image> here" } }, /^vision: sample 0 has 1 vision tokens .* but 0 vision inputs/],
    ["empty text list", { llmInputs: { text: [] } }, /^llmInputs.text has no prompts/],
  ])("%s", async (_name, request, message) => {
    await expect(processor.call(request)).rejects.toThrow(InputError);
    await expect(processor.call(request)).rejects.toThrow(message);
  });

  it.each<[string, Parameters<MultimodalProcessor["call"]>[0]["llmInputs"], RegExp]>([
    ["unknown padding", { text: "Hi", padding: "do_not_pad" as "longest" }, /^llmInputs.padding must be true, "longest" or "max_length", found "do_not_pad"/],
    ["max_length without maxLength", { text: "Hi", padding: "max_length" }, /^llmInputs.padding "max_length" needs llmInputs.maxLength/],
    ["invalid paddingSide", { text: "Hi", paddingSide: "top" as "left" }, /paddingSide must be "left" or "right", found "top"/],
  ])("%s", async (_name, llmInputs, message) => {
    await expect(processor.call({ llmInputs })).rejects.toThrow(ConfigError);
    await expect(processor.call({ llmInputs })).rejects.toThrow(message);
  });
});

describe("MultimodalProcessor.call with reference processors", () => {
  it("CLIP pixel_values match transformers", async () => {
    const clip = new MultimodalProcessor({
      encoderProcessors: { vision: imageEncoderProcessor(await loadImageProcessor(fixturePath("clip/preprocessor_config.json"))) },
      tokenizer: Tokenizer.fromPretrained(LLAMA2_TOKENIZER_DIR),
      encoderConfigs: { vision: { patch_size: 14 } },
      predefinedTokens: { vision: "<image>" },
    });
    const images = [fixturePath("clip/chelsea.png"), fixturePath("clip/coffee.png")];
    const output = await clip.call({ encoderInputs: { vision: { images } }, llmInputs: { text: ["<image> A cat", "<image> A cup"] } });

    // transformers 4.40.2 CLIPImageProcessor on the same two images.
    expect(compareArrays(output.pixel_values!.dataSync(), readPixelValuesReference()).maxError).toBeLessThan(1e-6);
    // CLIP ViT-L/14 at 224 pixels: 16 × 16 patches and the class token.
    expect(rows(output.input_ids).map((row) => count(row, IMAGE))).toEqual([257, 257]);
    disposeOutput(output);
  });

  it("Whisper input_features match transformers", async () => {
    const extractor = await loadWhisperFeatureExtractor(audioFixture("whisper/preprocessor_config.json"));
    const imageProcessor = new CLIPImageProcessor({ size: { shortest_edge: 32 }, crop_size: { height: 32, width: 32 } });
    const both = new MultimodalProcessor({
      encoderProcessors: { vision: imageEncoderProcessor(imageProcessor), audio: audioEncoderProcessor(extractor) },
      tokenizer: Tokenizer.fromPretrained(LLAMA2_TOKENIZER_DIR),
      encoderConfigs: { vision: { patch_size: 16 }, audio: { max_source_positions: 1500 } },
      predefinedTokens: { vision: "<image>", audio: "<audio>" },
    });
    const output = await both.call({
      encoderInputs: { vision: { images: [CAMERA] }, audio: { audio: [audioFixture("whisper/speech_16k.wav")] } },
      llmInputs: { text: ["<audio> What was said?", "<image> What is it?"] },
    });

    // transformers 4.40.2 WhisperFeatureExtractor (torch path) on the same clip.
    expect(output.input_features?.shape).toEqual([1, 80, 3000]);
    expect(maxAbsoluteError(output.input_features!.dataSync(), readFloat32Reference("input_features.f32.bin.gz"))).toBeLessThan(1e-4);
    expect(output.pixel_values?.shape).toEqual([1, 3, 32, 32]);
    expect(output.encoderInputs.audio.inputsPerSample).toEqual([1, 0]);
    expect(output.encoderInputs.vision.inputsPerSample).toEqual([0, 1]);
    const [audioRow, imageRow] = rows(output.input_ids);
    expect(count(audioRow, both.modalityTokenIds.audio)).toBe(1500);
    // A 32-pixel CLIP crop with 16-pixel patches: 2 × 2 patches and the class token.
    expect(count(imageRow, both.modalityTokenIds.vision)).toBe(5);
    disposeOutput(output);
  });
});
