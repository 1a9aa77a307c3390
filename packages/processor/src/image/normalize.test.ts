import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { centerCrop } from "./crop";
import type { DecodedImage } from "./decoded-image";
import { rescaleAndNormalize, type NormalizeOptions } from "./normalize";
import { compareArrays, fixturePath, readPixelValuesReference, readUint8Reference } from "./test-support/fixtures";

const clipConfig = JSON.parse(readFileSync(fixturePath("clip/preprocessor_config.json"), "utf8")) as NormalizeOptions;

describe("rescaleAndNormalize", () => {
  it.each([
    ["chelsea", 0],
    ["coffee", 1],
  ])("%s matches HF pixel_values within 1e-6", (name, index) => {
    const resized: DecodedImage = { width: 336, height: 224, channels: 3, data: readUint8Reference(`${name}_resized.u8.bin`) };
    const cropped = centerCrop(resized, { height: 224, width: 224 });
    const plane = 3 * 224 * 224;
    const expected = readPixelValuesReference().subarray(index * plane, (index + 1) * plane);
    const { maxError } = compareArrays(rescaleAndNormalize(cropped, clipConfig), expected);

    expect(maxError).toBeLessThanOrEqual(1e-6);
  });

  it("moves channels first", () => {
    // Two pixels (R, G, B) = (1, 2, 3) and (4, 5, 6) become planes [1, 4], [2, 5], [3, 6].
    const image: DecodedImage = { width: 2, height: 1, channels: 3, data: new Uint8Array([1, 2, 3, 4, 5, 6]) };
    const options: NormalizeOptions = {
      do_rescale: false,
      rescale_factor: 1,
      do_normalize: false,
      image_mean: [0, 0, 0],
      image_std: [1, 1, 1],
    };

    expect(Array.from(rescaleAndNormalize(image, options))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it("normalises without rescaling when do_rescale is false", () => {
    const image: DecodedImage = { width: 1, height: 1, channels: 3, data: new Uint8Array([10, 20, 30]) };
    const options: NormalizeOptions = {
      do_rescale: false,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [10, 10, 10],
      image_std: [2, 4, 5],
    };

    expect(Array.from(rescaleAndNormalize(image, options))).toEqual([0, 2.5, 4]);
  });
});
