import { InputError } from "@mm/core";
import { describe, expect, it } from "vitest";

import { centerCrop } from "./crop";
import type { DecodedImage } from "./decoded-image";
import { readClipReferences, readUint8Reference, sha256Hex } from "./test-support/fixtures";

/** Builds an image whose red channel numbers the pixels 1, 2, 3, ... row by row. */
function numberedImage(width: number, height: number): DecodedImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data[i * 3] = i + 1;
  return { width, height, channels: 3, data };
}

function redRows(image: DecodedImage): number[][] {
  return Array.from({ length: image.height }, (_, y) =>
    Array.from({ length: image.width }, (_, x) => image.data[(y * image.width + x) * 3]),
  );
}

describe("centerCrop", () => {
  const references = readClipReferences().outputs;

  it.each(["chelsea", "coffee"])("%s crop equals transformers' output", (name) => {
    const [height, width] = references[`${name}_resized`].shape;
    const resized: DecodedImage = { width, height, channels: 3, data: readUint8Reference(`${name}_resized.u8.bin`) };
    const cropped = centerCrop(resized, { height: 224, width: 224 });

    expect([cropped.height, cropped.width, 3]).toEqual(references[`${name}_cropped`].shape);
    expect(sha256Hex(cropped.data)).toBe(references[`${name}_cropped`].sha256);
  });

  it("floors an odd offset", () => {
    // 5 - 2 = 3 spare rows and columns: the crop starts at floor(3 / 2) = 1.
    const cropped = centerCrop(numberedImage(5, 5), { height: 2, width: 2 });

    expect(redRows(cropped)).toEqual([
      [7, 8],
      [12, 13],
    ]);
  });

  it("pads with zeros, rounding the leading padding up", () => {
    // 2x1 image into 3 rows x 5 columns: ceil(2 / 2) = 1 row above, ceil(3 / 2) = 2 columns left.
    const cropped = centerCrop(numberedImage(2, 1), { height: 3, width: 5 });

    expect(redRows(cropped)).toEqual([
      [0, 0, 0, 0, 0],
      [0, 0, 1, 2, 0],
      [0, 0, 0, 0, 0],
    ]);
  });

  it("crops one axis and pads the other", () => {
    const cropped = centerCrop(numberedImage(4, 2), { height: 4, width: 2 });

    expect(redRows(cropped)).toEqual([
      [0, 0],
      [2, 3],
      [6, 7],
      [0, 0],
    ]);
  });

  it("rejects a crop size that is not a positive integer", () => {
    expect(() => centerCrop(numberedImage(2, 2), { height: 0, width: 2 })).toThrow(InputError);
    expect(() => centerCrop(numberedImage(2, 2), { height: 0, width: 2 })).toThrow(/height 0 and width 2/);
  });
});
