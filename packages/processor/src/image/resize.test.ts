import { InputError } from "@mm/core";
import { describe, expect, it } from "vitest";

import { loadImage } from "./decode";
import type { DecodedImage } from "./decoded-image";
import type { ResampleFilter } from "./resample-filters";
import { resize } from "./resize";
import { compareArrays, fixturePath, readClipReferences, readUint8Reference, sha256Hex } from "./test-support/fixtures";

function randomImage(width: number, height: number, seed: number): DecodedImage {
  const data = new Uint8Array(width * height * 3);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    data[i] = state >>> 24;
  }
  return { width, height, channels: 3, data };
}

function sampleAt(image: DecodedImage, x: number, y: number, channel: number): number {
  return image.data[(y * image.width + x) * 3 + channel];
}

describe("resize against Pillow on the CLIP photos", () => {
  const references = readClipReferences().outputs;

  it.each(["chelsea", "coffee"])("bicubic %s equals Pillow's uint8 output", async (name) => {
    const decoded = await loadImage(fixturePath(`clip/${name}.png`));
    const expected = readUint8Reference(`${name}_resized.u8.bin`);
    const [height, width] = references[`${name}_resized`].shape;
    const resized = resize(decoded, width, height, "bicubic");
    const { maxError, differing } = compareArrays(resized.data, expected);

    expect(sha256Hex(decoded.data)).toBe(references[`${name}_rgb`].sha256);
    expect([resized.height, resized.width]).toEqual([height, width]);
    expect({ maxError, differing }).toEqual({ maxError: 0, differing: 0 });
  });
});

describe("resize rules derived from Pillow's Resample.c", () => {
  it("box halving rounds each pass half up", () => {
    const image = randomImage(8, 6, 7);
    const halved = resize(image, 4, 3, "box");

    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 4; x++) {
        for (let c = 0; c < 3; c++) {
          // Horizontal pass first: each weight is 1/2, so a pair becomes floor((a + b + 1) / 2).
          const top = (sampleAt(image, 2 * x, 2 * y, c) + sampleAt(image, 2 * x + 1, 2 * y, c) + 1) >> 1;
          const bottom = (sampleAt(image, 2 * x, 2 * y + 1, c) + sampleAt(image, 2 * x + 1, 2 * y + 1, c) + 1) >> 1;
          expect(sampleAt(halved, x, y, c)).toBe((top + bottom + 1) >> 1);
        }
      }
    }
  });

  it("bilinear doubling uses weights 3/4 and 1/4", () => {
    // One row a, b doubled to four columns: centres at 0.25, 0.75, 1.25 and 1.75 input pixels.
    const image: DecodedImage = { width: 2, height: 1, channels: 3, data: new Uint8Array([10, 0, 255, 31, 255, 0]) };
    const doubled = resize(image, 4, 1, "bilinear");
    const expected = [0, 1, 2].flatMap((c) => {
      const a = image.data[c];
      const b = image.data[3 + c];
      return [a, (3 * a + b + 2) >> 2, (a + 3 * b + 2) >> 2, b];
    });
    const actual = [0, 1, 2].flatMap((c) => [0, 1, 2, 3].map((x) => sampleAt(doubled, x, 0, c)));

    expect(actual).toEqual(expected);
  });

  it("nearest halving samples the odd rows and columns", () => {
    // Pillow samples at pixel centres: output x reads input floor((x + 0.5) * 2) = 2x + 1.
    const image = randomImage(6, 4, 11);
    const halved = resize(image, 3, 2, "nearest");

    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 3; x++) {
        for (let c = 0; c < 3; c++) expect(sampleAt(halved, x, y, c)).toBe(sampleAt(image, 2 * x + 1, 2 * y + 1, c));
      }
    }
  });

  it.each<ResampleFilter>(["nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"])(
    "%s keeps a constant image constant",
    (filter) => {
      const image: DecodedImage = { width: 37, height: 23, channels: 3, data: new Uint8Array(37 * 23 * 3).fill(201) };

      for (const [width, height] of [[11, 7], [80, 50], [37, 9]]) {
        const resized = resize(image, width, height, filter);
        expect(resized.data.every((value) => value === 201)).toBe(true);
      }
    },
  );

  it("returns a copy for the same size", () => {
    const image = randomImage(5, 4, 3);
    const copy = resize(image, 5, 4, "bicubic");

    expect(copy.data).not.toBe(image.data);
    expect(Array.from(copy.data)).toEqual(Array.from(image.data));
  });

  it("rejects a target size that is not a positive integer", () => {
    const image = randomImage(5, 4, 3);

    expect(() => resize(image, 0, 4, "bicubic")).toThrow(InputError);
    expect(() => resize(image, 2.5, 4, "bicubic")).toThrow(/width 2.5 and height 4/);
  });
});
