import { ConfigError, InputError, ShapeError, setLogSink } from "@mm/core";
import { describe, expect, it } from "vitest";

import {
  CLIPImageProcessor,
  SiglipImageProcessor,
  ViTImageProcessor,
  loadImageProcessor,
} from "./image-processor";
import { resizeOutputSize } from "./resize-size";
import { compareArrays, fixturePath, readPixelValuesReference } from "./test-support/fixtures";

const photos = [fixturePath("clip/chelsea.png"), fixturePath("clip/coffee.png")];

describe("CLIPImageProcessor end to end", () => {
  it("matches HF pixel_values within 1e-6", async () => {
    const processor = await loadImageProcessor(fixturePath("clip/preprocessor_config.json"));
    const batch = await processor.process(photos);
    const { maxError } = compareArrays(batch.pixel_values, readPixelValuesReference());

    expect(processor).toBeInstanceOf(CLIPImageProcessor);
    expect(batch.shape).toEqual([2, 3, 224, 224]);
    expect(maxError).toBeLessThanOrEqual(1e-6);
  });

  it("loads the config from a model folder", async () => {
    const processor = await loadImageProcessor(fixturePath("clip"));

    expect(processor.config.size).toEqual({ shortest_edge: 224 });
  });

  it("fills missing keys with CLIP defaults", () => {
    const processor = new CLIPImageProcessor({ crop_size: 196 });

    expect(processor.config.crop_size).toEqual({ height: 196, width: 196 });
    expect(processor.config.resample).toBe(3);
    expect(processor.outputSize()).toEqual({ height: 196, width: 196 });
  });
});

describe("processor output size", () => {
  it("uses size for SigLIP and ViT, which never crop", async () => {
    const warnings: string[] = [];
    const previousSink = setLogSink((level, _scope, message) => {
      if (level === "warn") warnings.push(message);
    });
    let siglip: SiglipImageProcessor;
    try {
      siglip = new SiglipImageProcessor({ size: { height: 384, width: 384 }, do_center_crop: true });
    } finally {
      setLogSink(previousSink);
    }
    const vit = new ViTImageProcessor({});
    const batch = await vit.process([photos[0]]);

    expect(siglip.outputSize()).toEqual({ height: 384, width: 384 });
    expect(siglip.config.do_center_crop).toBe(false);
    expect(warnings).toEqual(["SiglipImageProcessor has no center crop in transformers, so do_center_crop is ignored"]);
    expect(vit.config.resample).toBe(2);
    expect(batch.shape).toEqual([1, 3, 224, 224]);
  });

  it("rejects outputSize when it depends on the image", () => {
    const processor = new CLIPImageProcessor({ do_center_crop: false });

    expect(() => processor.outputSize()).toThrow(ConfigError);
    expect(() => processor.outputSize()).toThrow(/depends on each image's aspect ratio/);
  });

  it("rejects a batch whose images end at different sizes", async () => {
    const processor = new CLIPImageProcessor({ do_center_crop: false });
    const attempt = processor.process([photos[0], fixturePath("camera.png")]);

    await expect(attempt).rejects.toThrow(ShapeError);
    await expect(attempt).rejects.toThrow(/image 1 was preprocessed to 224x224 but image 0 to 224x336/);
  });

  it("rejects an empty batch", async () => {
    await expect(new CLIPImageProcessor().process([])).rejects.toThrow(InputError);
  });
});

describe("resizeOutputSize", () => {
  it.each([
    // int(224 * 451 / 300) = int(336.75) = 336: truncated, not rounded.
    [{ height: 300, width: 451 }, { height: 224, width: 336 }],
    [{ height: 451, width: 300 }, { height: 336, width: 224 }],
    [{ height: 50, width: 50 }, { height: 224, width: 224 }],
    // int(224 * 1000 / 3) = 74666.
    [{ height: 3, width: 1000 }, { height: 224, width: 74666 }],
  ])("scales %o to %o", (image, expected) => {
    expect(resizeOutputSize(image, { shortest_edge: 224 })).toEqual(expected);
  });

  it("passes height and width through", () => {
    expect(resizeOutputSize({ height: 3, width: 1000 }, { height: 10, width: 20 })).toEqual({ height: 10, width: 20 });
  });
});

describe("image processor config errors", () => {
  it.each([
    [{ resample: 9 }, /^resample must be a Pillow resampling code/],
    [{ resample: "3" }, /^resample must be a Pillow resampling code from 0 to 5, got "3"/],
    [{ image_mean: [0.5, 0.5] }, /^image_mean must be a number or a list of 3 numbers/],
    [{ image_std: 0 }, /^image_std must not contain 0/],
    [{ size: { longest_edge: 5 } }, /^size must be \{"height": h, "width": w\}/],
    [{ size: { height: 0, width: 3 } }, /^size\.height must be a positive integer, got 0/],
    [{ do_resize: "yes" }, /^do_resize must be true or false, got "yes"/],
    [{ rescale_factor: -1 }, /^rescale_factor must be a positive number/],
  ])("rejects %o", (raw, message) => {
    expect(() => new CLIPImageProcessor(raw)).toThrow(ConfigError);
    expect(() => new CLIPImageProcessor(raw)).toThrow(message);
  });

  it("rejects an unknown processor type", async () => {
    const attempt = loadImageProcessor({ image_processor_type: "DonutImageProcessor" });

    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(/"DonutImageProcessor"; supported: CLIPImageProcessor, SiglipImageProcessor/);
  });

  it("accepts the older CLIPFeatureExtractor name", async () => {
    const processor = await loadImageProcessor({ feature_extractor_type: "CLIPFeatureExtractor" });

    expect(processor).toBeInstanceOf(CLIPImageProcessor);
  });

  it("names a missing config file", async () => {
    await expect(loadImageProcessor(fixturePath("missing/preprocessor_config.json"))).rejects.toThrow(
      /^cannot read image processor config .*missing\/preprocessor_config\.json/,
    );
  });
});
