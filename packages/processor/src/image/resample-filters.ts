import { ConfigError } from "@mm/core";

/** Resampling filters with Pillow's names. */
export type ResampleFilter = "nearest" | "lanczos" | "bilinear" | "bicubic" | "box" | "hamming";

/** Pillow's `Image.Resampling` values, which are the `resample` integers of preprocessor_config.json. */
const PIL_RESAMPLE_CODES: Record<number, ResampleFilter> = {
  0: "nearest",
  1: "lanczos",
  2: "bilinear",
  3: "bicubic",
  4: "box",
  5: "hamming",
};

/**
 * Maps a Pillow resampling code (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming)
 * to its filter name.
 * @throws ConfigError for any other value.
 */
export function filterFromPilCode(code: number, key = "resample", file?: string): ResampleFilter {
  const filter = Number.isInteger(code) ? PIL_RESAMPLE_CODES[code] : undefined;
  if (filter === undefined) {
    const where = file ? ` in ${file}` : "";
    throw new ConfigError(
      `${key}${where} must be a Pillow resampling code (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, ` +
        `4 box, 5 hamming), got ${JSON.stringify(code)}`,
      key,
      file,
    );
  }
  return filter;
}

/** A convolution kernel: its weight at distance x (in input pixels, unscaled) and its radius. */
export interface ConvolutionKernel {
  weight: (x: number) => number;
  support: number;
}

/**
 * The kernels of Pillow's Resample.c, with the same constants: bicubic uses a = -0.5, lanczos has
 * 3 lobes, and hamming's 0.54 and 0.46 are float32 constants, as the C source writes them.
 * NOTE: only bicubic is compared with Pillow's output in the tests (bilinear, box and nearest with
 * rules derived from Resample.c). Lanczos and hamming call Math.sin, which may differ from C's sin
 * in the last bit and so, rarely, move a fixed-point weight by one.
 */
export const CONVOLUTION_KERNELS: Record<Exclude<ResampleFilter, "nearest">, ConvolutionKernel> = {
  box: { weight: boxWeight, support: 0.5 },
  bilinear: { weight: bilinearWeight, support: 1 },
  hamming: { weight: hammingWeight, support: 1 },
  bicubic: { weight: bicubicWeight, support: 2 },
  lanczos: { weight: lanczosWeight, support: 3 },
};

function boxWeight(x: number): number {
  return x > -0.5 && x <= 0.5 ? 1 : 0;
}

function bilinearWeight(x: number): number {
  const distance = Math.abs(x);
  return distance < 1 ? 1 - distance : 0;
}

const HAMMING_ALPHA = Math.fround(0.54);
const HAMMING_BETA = Math.fround(0.46);

function hammingWeight(x: number): number {
  const distance = Math.abs(x);
  if (distance === 0) return 1;
  if (distance >= 1) return 0;
  const angle = distance * Math.PI;
  return (Math.sin(angle) / angle) * (HAMMING_ALPHA + HAMMING_BETA * Math.cos(angle));
}

const BICUBIC_A = -0.5;

function bicubicWeight(x: number): number {
  const distance = Math.abs(x);
  if (distance < 1) return ((BICUBIC_A + 2) * distance - (BICUBIC_A + 3)) * distance * distance + 1;
  if (distance < 2) return (((distance - 5) * distance + 8) * distance - 4) * BICUBIC_A;
  return 0;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const angle = x * Math.PI;
  return Math.sin(angle) / angle;
}

function lanczosWeight(x: number): number {
  return x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
}
