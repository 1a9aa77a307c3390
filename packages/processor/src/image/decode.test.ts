import { readFileSync } from "node:fs";

import { InputError } from "@mm/core";
import sharp from "sharp";
import { describe, expect, it } from "vitest";

import { loadImage } from "./decode";
import type { DecodedImage } from "./decoded-image";
import { fixturePath, readClipReferences, sha256Hex } from "./test-support/fixtures";
import { readPng, writePng } from "./test-support/png";

/** Expands stored PNG samples to RGB by Pillow's convert("RGB") rules: grey copied, alpha dropped. */
function pilRgbFromPng(file: string): Uint8Array {
  const png = readPng(readFileSync(fixturePath(file)));
  const rgb = new Uint8Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++) {
    const pixel = png.samples.subarray(i * png.samplesPerPixel, (i + 1) * png.samplesPerPixel);
    if (png.colourType === 3) rgb.set(png.palette!.subarray(pixel[0] * 3, pixel[0] * 3 + 3), i * 3);
    else if (png.colourType === 0 || png.colourType === 4) rgb.fill(pixel[0], i * 3, i * 3 + 3);
    else rgb.set(pixel.subarray(0, 3), i * 3);
  }
  return rgb;
}

function pixelAt(image: DecodedImage, x: number, y: number): number[] {
  const offset = (y * image.width + x) * 3;
  return Array.from(image.data.subarray(offset, offset + 3));
}

describe("loadImage on the CLIP reference photos", () => {
  const references = readClipReferences().outputs;

  it.each(["chelsea", "coffee"])("%s decodes to Pillow's RGB bytes", async (name) => {
    const image = await loadImage(fixturePath(`clip/${name}.png`));
    const reference = references[`${name}_rgb`];

    expect([image.height, image.width, image.channels]).toEqual(reference.shape);
    expect(sha256Hex(image.data)).toBe(reference.sha256);
  });
});

describe("loadImage colour modes", () => {
  it("copies grey to R, G and B", async () => {
    const image = await loadImage(fixturePath("camera.png"));

    expect(readPng(readFileSync(fixturePath("camera.png"))).colourType).toBe(0);
    expect([image.width, image.height]).toEqual([512, 512]);
    expect(Buffer.from(image.data).equals(pilRgbFromPng("camera.png"))).toBe(true);
  });

  it("drops RGBA alpha without compositing", async () => {
    const png = readPng(readFileSync(fixturePath("horse.png")));
    const translucent = Array.from({ length: png.width * png.height }, (_, i) => png.samples[i * 4 + 3]).filter(
      (alpha) => alpha < 255,
    );
    const image = await loadImage(fixturePath("horse.png"));

    expect(png.colourType).toBe(6);
    expect(translucent.length).toBeGreaterThan(0);
    expect(Buffer.from(image.data).equals(pilRgbFromPng("horse.png"))).toBe(true);
  });

  it("keeps the colour of fully transparent pixels", async () => {
    const rgba = writePng(2, 1, 8, 6, [200, 10, 20, 0, 1, 2, 3, 128]);
    const greyAlpha = writePng(2, 1, 8, 4, [77, 0, 99, 10]);

    expect(Array.from((await loadImage(rgba)).data)).toEqual([200, 10, 20, 1, 2, 3]);
    expect(Array.from((await loadImage(greyAlpha)).data)).toEqual([77, 77, 77, 99, 99, 99]);
  });

  it("expands palette PNG through PLTE", async () => {
    const image = await loadImage(fixturePath("palette_color.png"));

    expect(readPng(readFileSync(fixturePath("palette_color.png"))).colourType).toBe(3);
    expect(Buffer.from(image.data).equals(pilRgbFromPng("palette_color.png"))).toBe(true);
  });

  it("takes the first GIF frame in palette colours", async () => {
    const file = fixturePath("no_time_for_that_tiny.gif");
    const gif = readFileSync(file);
    // The global colour table follows the 13-byte header; this file has 256 entries.
    const palette = new Set<string>();
    for (let i = 0; i < 256; i++) palette.add(Array.from(gif.subarray(13 + i * 3, 16 + i * 3)).join(","));
    const firstFrame = await sharp(gif, { pages: 1, page: 0 }).raw().toBuffer({ resolveWithObject: true });
    const image = await loadImage(file);

    expect([image.width, image.height]).toEqual([14, 25]);
    for (let y = 0; y < image.height; y++) {
      for (let x = 0; x < image.width; x++) expect(palette.has(pixelAt(image, x, y).join(","))).toBe(true);
    }
    const firstFrameRgb = Array.from(firstFrame.data).filter((_, i) => i % 4 !== 3);
    expect(Array.from(image.data)).toEqual(firstFrameRgb);
  });

  it("gives transparent GIF pixels the palette colour", async () => {
    // Logical screen 3x1 with one 2x1 frame of palette indices 0 and 1; index 0 is transparent.
    // Pillow fills the canvas with the transparent index, so all but pixel 1 show entry 0.
    const gif = Buffer.from([
      ...Buffer.from("GIF89a", "latin1"),
      3, 0, 1, 0, 0x81, 0, 0,
      200, 10, 20, 5, 6, 7, 0, 0, 0, 255, 255, 255,
      0x21, 0xf9, 4, 1, 0, 0, 0, 0,
      0x2c, 0, 0, 0, 0, 2, 0, 1, 0, 0,
      // LZW, minimum code size 2: clear (4), index 0, index 1, end (5) as 3-bit codes.
      2, 2, 0x44, 0x0a, 0,
      0x3b,
    ]);
    const image = await loadImage(gif);

    expect([image.width, image.height]).toEqual([3, 1]);
    expect(Array.from(image.data)).toEqual([200, 10, 20, 5, 6, 7, 200, 10, 20]);
  });

  it("keeps palette colours under PNG tRNS", async () => {
    const palette = { type: "PLTE", data: Buffer.from([200, 10, 20, 5, 6, 7]) };
    const transparency = { type: "tRNS", data: Buffer.from([0]) };
    const png = writePng(2, 1, 8, 3, [0, 1], [palette, transparency]);

    expect(Array.from((await loadImage(png)).data)).toEqual([200, 10, 20, 5, 6, 7]);
  });

  it("decodes lossless WebP exactly", async () => {
    const source = await loadImage(fixturePath("palette_color.png"));
    const webp = await sharp(source.data, { raw: { width: source.width, height: source.height, channels: 3 } })
      .webp({ lossless: true })
      .toBuffer();

    expect(Array.from((await loadImage(webp)).data)).toEqual(Array.from(source.data));
  });

  it("decodes JPEG close to the encoded pixels", async () => {
    const source = await loadImage(fixturePath("clip/coffee.png"));
    const jpeg = await sharp(source.data, { raw: { width: source.width, height: source.height, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    const image = await loadImage(jpeg);
    let totalError = 0;
    for (let i = 0; i < image.data.length; i++) totalError += Math.abs(image.data[i] - source.data[i]);

    expect([image.width, image.height]).toEqual([600, 400]);
    expect(totalError / image.data.length).toBeLessThan(3);
  });
});

describe("loadImage PNG bit depths", () => {
  it("scales 1-, 2- and 4-bit grey to 8 bits", async () => {
    // Pillow opens these as mode 1 (0 or 255), L;2 (value * 85) and L;4 (value * 17).
    const oneBit = writePng(3, 1, 1, 0, [1, 0, 1]);
    const twoBit = writePng(4, 1, 2, 0, [0, 1, 2, 3]);
    const fourBit = writePng(3, 1, 4, 0, [0, 7, 15]);

    expect(Array.from((await loadImage(oneBit)).data)).toEqual([255, 255, 255, 0, 0, 0, 255, 255, 255]);
    expect(Array.from((await loadImage(twoBit)).data)).toEqual([0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255]);
    expect(Array.from((await loadImage(fourBit)).data)).toEqual([0, 0, 0, 119, 119, 119, 255, 255, 255]);
  });

  it("looks up 2-bit palette indices", async () => {
    const palette = { type: "PLTE", data: Buffer.from([1, 2, 3, 40, 50, 60, 70, 80, 90, 200, 210, 220]) };
    const png = writePng(3, 1, 2, 3, [3, 0, 1], [palette]);

    expect(Array.from((await loadImage(png)).data)).toEqual([200, 210, 220, 1, 2, 3, 40, 50, 60]);
  });


  it("clips 16-bit grey to 255 as Pillow's mode I does", async () => {
    const grey = writePng(5, 1, 16, 0, [0, 100, 255, 256, 65535]);

    expect(Array.from((await loadImage(grey)).data)).toEqual([0, 0, 0, 100, 100, 100, 255, 255, 255, 255, 255, 255, 255, 255, 255]);
  });

  it("clips 16-bit grey with tRNS the same way", async () => {
    const transparentValue = { type: "tRNS", data: Buffer.from([0x01, 0x2c]) };
    const grey = writePng(2, 1, 16, 0, [300, 7], [transparentValue]);

    expect(Array.from((await loadImage(grey)).data)).toEqual([255, 255, 255, 7, 7, 7]);
  });

  it("keeps the high byte of 16-bit RGB, RGBA and grey-alpha", async () => {
    const rgb = writePng(2, 1, 16, 2, [0x1234, 0xabff, 0x00ff, 0xff00, 0x0180, 0x8000]);
    const rgba = writePng(1, 1, 16, 6, [0x1234, 0x5678, 0x9abc, 0x0000]);
    const greyAlpha = writePng(2, 1, 16, 4, [0x12ff, 0x0000, 0xfe01, 0xffff]);

    expect(Array.from((await loadImage(rgb)).data)).toEqual([0x12, 0xab, 0x00, 0xff, 0x01, 0x80]);
    expect(Array.from((await loadImage(rgba)).data)).toEqual([0x12, 0x56, 0x9a]);
    expect(Array.from((await loadImage(greyAlpha)).data)).toEqual([0x12, 0x12, 0x12, 0xfe, 0xfe, 0xfe]);
  });
});

describe("loadImage orientation and inputs", () => {
  it("applies EXIF orientation 6 (rotate 90 degrees clockwise)", async () => {
    // 3x2 image: top row 10 20 30, bottom row 40 50 60 (red channel).
    const red = [10, 20, 30, 40, 50, 60];
    const pixels = Buffer.from(red.flatMap((value) => [value, 0, 0]));
    const png = await sharp(pixels, { raw: { width: 3, height: 2, channels: 3 } })
      .withMetadata({ orientation: 6 })
      .png()
      .toBuffer();
    const image = await loadImage(png);

    expect([image.width, image.height]).toEqual([2, 3]);
    expect(Array.from(image.data).filter((_, i) => i % 3 === 0)).toEqual([40, 10, 50, 20, 60, 30]);
  });

  it("returns a valid DecodedImage unchanged", async () => {
    const image: DecodedImage = { width: 1, height: 1, channels: 3, data: new Uint8Array([1, 2, 3]) };

    expect(await loadImage(image)).toBe(image);
  });

  it("rejects a DecodedImage whose data does not fit", async () => {
    const image: DecodedImage = { width: 2, height: 1, channels: 3, data: new Uint8Array(3) };

    await expect(loadImage(image)).rejects.toThrow(InputError);
    await expect(loadImage(image)).rejects.toThrow(/data has 3 bytes but width 2 x height 1 x 3 channels needs 6/);
  });
});

describe("loadImage errors", () => {
  it("names a missing file", async () => {
    const attempt = loadImage(fixturePath("missing.png"));

    await expect(attempt).rejects.toThrow(InputError);
    await expect(attempt).rejects.toThrow(/^image file not found: .*missing\.png; check the path/);
  });

  it("rejects a truncated JPEG", async () => {
    const attempt = loadImage(fixturePath("truncated.jpg"));

    await expect(attempt).rejects.toThrow(InputError);
    await expect(attempt).rejects.toThrow(
      /^cannot decode image .*truncated\.jpg: .+; the file is corrupt or not an image \(supported: JPEG, PNG, GIF, WebP\)$/,
    );
  });

  it("rejects a JPEG cut in half", async () => {
    const source = await loadImage(fixturePath("clip/chelsea.png"));
    const jpeg = await sharp(source.data, { raw: { width: source.width, height: source.height, channels: 3 } })
      .jpeg()
      .toBuffer();

    await expect(loadImage(jpeg.subarray(0, jpeg.length / 2))).rejects.toThrow(
      /^cannot decode image from a Buffer of \d+ bytes: .*premature end/,
    );
  });

  it("rejects a PNG cut in half", async () => {
    const png = readFileSync(fixturePath("clip/coffee.png"));

    await expect(loadImage(png.subarray(0, png.length / 2))).rejects.toThrow(/^cannot decode image from a Buffer/);
  });

  it("rejects a text file named .png", async () => {
    await expect(loadImage(fixturePath("not-an-image.png"))).rejects.toThrow(
      /^cannot decode image .*not-an-image\.png: .*unsupported image format/,
    );
  });

  it("rejects a format outside JPEG, PNG, GIF and WebP", async () => {
    const tiff = await sharp(readFileSync(fixturePath("palette_color.png"))).tiff().toBuffer();

    await expect(loadImage(tiff)).rejects.toThrow(/^unsupported image format tiff in image from a Buffer.*; convert it/);
  });

  it("rejects an input of another type", async () => {
    await expect(loadImage(42 as unknown as string)).rejects.toThrow(/expects a file path, a Buffer .* got number/);
  });
});
