import { ConfigError, ModalEncoderModule, MultimodalModel, getLogLevel, setLogLevel, type LogLevel } from "@mm/core";
import { ToyEncoder, ToyLanguageModel, useBackend } from "@mm/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIPImageProcessor } from "../image/image-processor";
import { LLAMA2_TOKENIZER_DIR, QWEN3_TOKENIZER_DIR } from "../tokenizer/test-fixture-paths";
import { Tokenizer } from "../tokenizer/tokenizer";
import { imageEncoderProcessor } from "./encoder-processor";
import { MultimodalProcessor } from "./multimodal-processor";

const encoderProcessors = () => ({
  vision: imageEncoderProcessor(new CLIPImageProcessor({ size: { shortest_edge: 32 }, crop_size: { height: 32, width: 32 } })),
});

function toyModel(): MultimodalModel {
  return new MultimodalModel({
    encoders: { vision: new ModalEncoderModule({ model: new ToyEncoder(8, 8, "pixel_values", 4) }) },
    languageModel: new ToyLanguageModel(32001, 8),
    initProjectorType: "linear",
  });
}

let previousLogLevel: LogLevel;
beforeAll(async () => {
  await useBackend("wasm");
  previousLogLevel = getLogLevel();
  setLogLevel("error");
});
afterAll(() => setLogLevel(previousLogLevel));

describe("model config token ids", () => {
  it.each([{ image_token_index: 32000 }, { image_token_id: 32000 }, { image_token_index: 32000, image_token_id: 7 }])(
    "accepts a matching config %j",
    (modelConfig) => {
      const processor = new MultimodalProcessor({
        encoderProcessors: encoderProcessors(),
        tokenizer: Tokenizer.fromPretrained(LLAMA2_TOKENIZER_DIR),
        predefinedTokens: { vision: "<image>" },
        modelConfig,
      });
      expect(processor.modalityTokenIds).toEqual({ vision: 32000 });
    },
  );

  it("rejects a config with another id", () => {
    const model = toyModel();
    const build = () =>
      new MultimodalProcessor({
        encoderProcessors: encoderProcessors(),
        tokenizer: Tokenizer.fromPretrained(LLAMA2_TOKENIZER_DIR),
        predefinedTokens: { vision: "<image>" },
        modelConfig: { image_token_index: 32001 },
        model,
      });
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/^vision: the tokenizer gives "<image>" the id 32000 but the model config's image_token_index is 32001/);
    expect(model.modalityTokenIds).toEqual({});
    model.dispose();
  });

  it("rejects an invalid config id", () => {
    const build = () =>
      new MultimodalProcessor({
        encoderProcessors: encoderProcessors(),
        tokenizer: Tokenizer.fromPretrained(LLAMA2_TOKENIZER_DIR),
        modelConfig: { image_token_id: "32000" },
      });
    expect(build).toThrow(/^vision: the model config's image_token_id must be a non-negative integer token id, found "32000"/);
  });
});

describe("model token ids set by a loader", () => {
  it("accepts the same id", () => {
    const model = toyModel();
    model.setModalityTokenIds({ vision: 32000 });
    new MultimodalProcessor({
      encoderProcessors: encoderProcessors(),
      tokenizer: Tokenizer.fromPretrained(LLAMA2_TOKENIZER_DIR),
      predefinedTokens: { vision: "<image>" },
      model,
    });
    expect(model.modalityTokenIds).toEqual({ vision: 32000 });
    model.dispose();
  });

  it("rejects another id and names both", () => {
    const model = toyModel();
    model.setModalityTokenIds({ vision: 31999 });
    const build = () =>
      new MultimodalProcessor({
        encoderProcessors: encoderProcessors(),
        tokenizer: Tokenizer.fromPretrained(LLAMA2_TOKENIZER_DIR),
        predefinedTokens: { vision: "<image>" },
        model,
      });
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/^vision: the model already uses token id 31999 for vision .* but the tokenizer gives "<image>" the id 32000/);
    expect(model.modalityTokenIds).toEqual({ vision: 31999 });
    model.dispose();
  });
});

describe("model config token ids with Qwen3", () => {
  // Qwen2-VL and Qwen3-VL configs set image_token_id 151655, the id of <|image_pad|>.
  const qwenVlConfig = { image_token_id: 151655 };

  it("<|image_pad|> matches the Qwen-VL config", () => {
    const processor = new MultimodalProcessor({
      encoderProcessors: encoderProcessors(),
      tokenizer: Tokenizer.fromPretrained(QWEN3_TOKENIZER_DIR),
      predefinedTokens: { vision: "<|image_pad|>" },
      modelConfig: qwenVlConfig,
    });
    expect(processor.modalityTokenIds).toEqual({ vision: 151655 });
  });

  it("a new <image> token does not", () => {
    const build = () =>
      new MultimodalProcessor({
        encoderProcessors: encoderProcessors(),
        tokenizer: Tokenizer.fromPretrained(QWEN3_TOKENIZER_DIR),
        predefinedTokens: { vision: "<image>" },
        modelConfig: qwenVlConfig,
      });
    expect(build).toThrow(/^vision: the tokenizer gives "<image>" the id 151669 but the model config's image_token_id is 151655/);
  });
});
