import { checkDecodedImage, type DecodedImage } from "./decoded-image";

/** Rescale and normalisation settings, spelled as in preprocessor_config.json. */
export interface NormalizeOptions {
  do_rescale: boolean;
  rescale_factor: number;
  do_normalize: boolean;
  /** Per-channel R, G, B mean, in rescaled units. */
  image_mean: readonly [number, number, number];
  /** Per-channel R, G, B standard deviation, in rescaled units. */
  image_std: readonly [number, number, number];
}

/**
 * Rescales and normalises an RGB image and moves channels first, with transformers' float
 * rounding: the rescale multiplies in float64 and stores float32, then `(x - mean) / std` runs in
 * float32 with float32 mean and std, so the result matches HF's pixel_values bit for bit.
 *
 * @param image uint8 RGB `[H, W, 3]`.
 * @returns float32 `[3, H, W]`, channels first.
 */
export function rescaleAndNormalize(image: DecodedImage, options: NormalizeOptions): Float32Array {
  checkDecodedImage(image);
  const { width, height, data } = image;
  const plane = width * height;
  const output = new Float32Array(3 * plane);
  const mean = options.image_mean.map(Math.fround);
  const std = options.image_std.map(Math.fround);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      let value = data[i * 3 + c];
      if (options.do_rescale) value = Math.fround(value * options.rescale_factor);
      if (options.do_normalize) value = Math.fround(Math.fround(value - mean[c]) / std[c]);
      output[c * plane + i] = value;
    }
  }
  return output;
}
