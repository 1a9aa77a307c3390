/**
 * Conversions from the pixel layouts that sharp decodes to 8-bit RGB, each matching what Pillow's
 * `Image.convert("RGB")` does to the mode Pillow opens the same file in (Pillow's Convert.c).
 */

/**
 * Converts interleaved uint8 pixels with 1 to 4 channels to RGB: grey is copied to R, G and B,
 * and alpha is dropped without compositing, as Pillow's L, LA, RGBA -> RGB conversions do.
 */
export function interleavedToRgb(pixels: Uint8Array, channels: number): Uint8Array {
  const count = pixels.length / channels;
  const rgb = new Uint8Array(count * 3);
  const isGrey = channels <= 2;
  for (let i = 0; i < count; i++) {
    const from = i * channels;
    rgb[i * 3] = pixels[from];
    rgb[i * 3 + 1] = isGrey ? pixels[from] : pixels[from + 1];
    rgb[i * 3 + 2] = isGrey ? pixels[from] : pixels[from + 2];
  }
  return rgb;
}

/**
 * Converts 16-bit greyscale samples (the first of `channels` per pixel) to RGB the way Pillow does
 * for a 16-bit greyscale PNG, which it opens in mode I or I;16. Values above 255 become 255, so
 * most of a full-range 16-bit image turns white. Any alpha channel is dropped.
 */
export function grey16ToRgb(samples: Uint16Array, channels: number): Uint8Array {
  const count = samples.length / channels;
  const rgb = new Uint8Array(count * 3);
  for (let i = 0; i < count; i++) {
    const value = Math.min(samples[i * channels], 255);
    rgb.fill(value, i * 3, i * 3 + 3);
  }
  return rgb;
}

/**
 * Converts interleaved CMYK (0 = no ink) to RGB with Pillow's formula, without a colour profile:
 * each channel is `(255 - K) - C * (255 - K) / 255`, the division rounded as Pillow's MULDIV255.
 */
export function cmykToRgb(pixels: Uint8Array): Uint8Array {
  const count = pixels.length / 4;
  const rgb = new Uint8Array(count * 3);
  for (let i = 0; i < count; i++) {
    const inverseBlack = 255 - pixels[i * 4 + 3];
    for (let c = 0; c < 3; c++) {
      rgb[i * 3 + c] = inverseBlack - mulDiv255(pixels[i * 4 + c], inverseBlack);
    }
  }
  return rgb;
}

/** Computes round(a * b / 255) for bytes with Pillow's integer trick. */
function mulDiv255(a: number, b: number): number {
  const product = a * b + 128;
  return ((product >> 8) + product) >> 8;
}
