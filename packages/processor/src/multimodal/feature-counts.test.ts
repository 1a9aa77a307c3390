import { ConfigError, ModalEncoderModule, MultimodalModel } from "@mm/core";
import { ToyEncoder, ToyLanguageModel, useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { audioEncoderProcessor } from "../audio/audio-encoder-processor";
import { fixturePath as audioFixture } from "../audio/test-support/fixtures";
import { loadWhisperFeatureExtractor } from "../audio/whisper-feature-extractor";
import { CLIPImageProcessor, ImageProcessor, SIGLIP_DEFAULTS, SiglipImageProcessor, ViTImageProcessor } from "../image/image-processor";
import { imageEncoderProcessor, type EncoderProcessor } from "./encoder-processor";
import { resolveFeatureCount } from "./feature-counts";

function clip(size: number): EncoderProcessor {
  return imageEncoderProcessor(new CLIPImageProcessor({ size: { shortest_edge: size }, crop_size: { height: size, width: size } }));
}

beforeAll(async () => {
  await useBackend("wasm");
});

describe("image featureCount", () => {
  // Positions of last_hidden_state in transformers for well-known checkpoints.
  it.each<[string, EncoderProcessor, number, number]>([
    ["CLIP ViT-L/14 at 336 (LLaVA-1.5)", clip(336), 14, 577],
    ["CLIP ViT-B/32 at 224", clip(224), 32, 50],
    ["SigLIP so400m/14 at 384", imageEncoderProcessor(new SiglipImageProcessor({ size: { height: 384, width: 384 } })), 14, 729],
    ["SigLIP base/16 at 224", imageEncoderProcessor(new SiglipImageProcessor()), 16, 196],
    ["ViT base/16 at 224", imageEncoderProcessor(new ViTImageProcessor()), 16, 197],
  ])("%s", (_name, processor, patchSize, expected) => {
    expect(processor.featureCount?.({ patch_size: patchSize })).toBe(expected);
  });

  it("is undefined without patch_size", () => {
    expect(clip(224).featureCount?.({})).toBeUndefined();
  });

  it("is undefined for a generic image processor", () => {
    const generic = imageEncoderProcessor(new ImageProcessor({}, SIGLIP_DEFAULTS));
    expect(generic.featureCount?.({ patch_size: 16 })).toBeUndefined();
  });
});

describe("resolveFeatureCount", () => {
  it("numFeatureFns comes first", () => {
    const count = resolveFeatureCount("vision", clip(224), {
      numFeatureFns: { vision: () => 576 },
      encoderConfigs: { vision: { patch_size: 14 } },
    });
    expect(count("image.png", 0)).toBe(576);
  });

  it("model featuresPerInput comes before encoderConfigs", () => {
    const model = new MultimodalModel({
      encoders: { vision: new ModalEncoderModule({ model: new ToyEncoder(8, 8, "pixel_values", 9) }) },
      languageModel: new ToyLanguageModel(16, 8),
      initProjectorType: "linear",
    });
    const count = resolveFeatureCount("vision", clip(224), { model, encoderConfigs: { vision: { patch_size: 14 } } });
    expect(count("image.png", 0)).toBe(9);
    model.dispose();
  });

  it("encoderConfigs gives the processor default", () => {
    expect(resolveFeatureCount("vision", clip(224), { encoderConfigs: { vision: { patch_size: 14 } } })("image.png", 0)).toBe(257);
  });

  it("Whisper counts max_source_positions", async () => {
    const audio = audioEncoderProcessor(await loadWhisperFeatureExtractor(audioFixture("whisper/preprocessor_config.json")));
    expect(resolveFeatureCount("audio", audio, { encoderConfigs: { audio: { max_source_positions: 1500 } } })("clip.wav", 0)).toBe(1500);
  });

  it("unknown count throws when used", () => {
    const count = resolveFeatureCount("vision", clip(224), {});
    expect(() => count("image.png", 0)).toThrow(ConfigError);
    expect(() => count("image.png", 0)).toThrow(
      /^vision: the number of feature rows per input is unknown; pass numFeatureFns.vision, .* or encoderConfigs.vision with the encoder's patch_size/,
    );
  });
});
