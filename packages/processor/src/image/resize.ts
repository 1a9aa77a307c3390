import { InputError } from "@mm/core";

import { checkDecodedImage, type DecodedImage } from "./decoded-image";
import { CONVOLUTION_KERNELS, type ConvolutionKernel, type ResampleFilter } from "./resample-filters";

/**
 * Pillow 8-bit resampling keeps 22 fractional bits in integer coefficients: 8 bits are left for
 * the pixel value and 2 for sums that overshoot, in a 32-bit accumulator (Resample.c).
 */
const PRECISION_BITS = 32 - 8 - 2;
const FIXED_ONE = 2 ** PRECISION_BITS;
const ROUNDING_HALF = 2 ** (PRECISION_BITS - 1);

/** Per output pixel of one axis: the first input index, the tap count and fixed-point weights. */
interface AxisCoefficients {
  starts: Int32Array;
  counts: Int32Array;
  weights: Int32Array;
  kernelSize: number;
}

/**
 * Resizes an RGB image to `width` x `height` with the same uint8 output as Pillow's
 * `Image.resize((width, height), resample)` with no box and no reducing_gap, which is how
 * transformers resizes.
 *
 * The convolution filters run Pillow's algorithm. The kernel widens by the shrink factor, so
 * shrinking antialiases. The weights are normalised to sum 1 and rounded to 22-bit fixed point.
 * Two passes apply them, horizontal first, and each pass rounds and clips to uint8. "nearest"
 * uses Pillow's affine nearest-neighbour sampling at pixel centres. Same-size requests return a
 * copy.
 *
 * @param image uint8 RGB `[height, width, 3]`.
 * @returns uint8 RGB `[height, width, 3]` of the requested size.
 */
export function resize(image: DecodedImage, width: number, height: number, filter: ResampleFilter): DecodedImage {
  checkDecodedImage(image);
  checkTargetSize(width, height);
  if (width === image.width && height === image.height) return { ...image, data: image.data.slice() };
  if (filter === "nearest") return resizeNearest(image, width, height);
  const kernel = CONVOLUTION_KERNELS[filter];
  if (kernel === undefined) {
    throw new InputError(`unknown resampling filter ${JSON.stringify(filter)}; use one of nearest, ` +
      `lanczos, bilinear, bicubic, box, hamming`);
  }
  return resizeConvolution(image, width, height, kernel);
}

function checkTargetSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InputError(`resize target must be positive integers, got width ${width} and height ${height}`);
  }
}

function resizeConvolution(image: DecodedImage, width: number, height: number, kernel: ConvolutionKernel): DecodedImage {
  const needsHorizontal = width !== image.width;
  const needsVertical = height !== image.height;
  const vertical = computeAxisCoefficients(image.height, height, kernel);

  let source = image;
  let firstRow = 0;
  if (needsHorizontal) {
    // Only the rows that the vertical pass reads are resampled horizontally.
    firstRow = vertical.starts[0];
    const lastRow = vertical.starts[height - 1] + vertical.counts[height - 1];
    const horizontal = computeAxisCoefficients(image.width, width, kernel);
    source = resampleRows(image, horizontal, firstRow, lastRow);
  }
  if (!needsVertical) return source;
  return resampleColumns(source, vertical, firstRow);
}

/**
 * Computes the taps of one axis as Pillow's precompute_coeffs and normalize_coeffs_8bpc do,
 * including their rounding, so that the integer weights are bit-identical.
 */
export function computeAxisCoefficients(inSize: number, outSize: number, kernel: ConvolutionKernel): AxisCoefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = kernel.support * filterScale;
  // Pillow multiplies by the reciprocal; dividing by filterScale would round differently.
  const inverseScale = 1 / filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const starts = new Int32Array(outSize);
  const counts = new Int32Array(outSize);
  const weights = new Int32Array(outSize * kernelSize);
  const taps = new Float64Array(kernelSize);

  for (let out = 0; out < outSize; out++) {
    const center = (out + 0.5) * scale;
    // C's (int) cast truncates toward zero before the clamp.
    const start = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.trunc(center + support + 0.5), inSize) - start;
    let sum = 0;
    for (let k = 0; k < count; k++) {
      taps[k] = kernel.weight((k + start - center + 0.5) * inverseScale);
      sum += taps[k];
    }
    for (let k = 0; k < count; k++) {
      const normalised = sum !== 0 ? taps[k] / sum : taps[k];
      weights[out * kernelSize + k] = toFixedPoint(normalised);
    }
    starts[out] = start;
    counts[out] = count;
  }
  return { starts, counts, weights, kernelSize };
}

function toFixedPoint(weight: number): number {
  return Math.trunc(weight < 0 ? -0.5 + weight * FIXED_ONE : 0.5 + weight * FIXED_ONE);
}

function clipToByte(accumulator: number): number {
  const value = Math.floor(accumulator / FIXED_ONE);
  if (value < 0) return 0;
  if (value > 255) return 255;
  return value;
}

/** Resamples input rows [firstRow, lastRow) horizontally and returns them at the new width. */
function resampleRows(image: DecodedImage, axis: AxisCoefficients, firstRow: number, lastRow: number): DecodedImage {
  const outWidth = axis.starts.length;
  const rows = lastRow - firstRow;
  const data = new Uint8Array(outWidth * rows * 3);
  for (let y = 0; y < rows; y++) {
    const rowOffset = (y + firstRow) * image.width * 3;
    for (let x = 0; x < outWidth; x++) {
      const tapBase = x * axis.kernelSize;
      const pixelBase = rowOffset + axis.starts[x] * 3;
      let r = ROUNDING_HALF;
      let g = ROUNDING_HALF;
      let b = ROUNDING_HALF;
      for (let k = 0; k < axis.counts[x]; k++) {
        const weight = axis.weights[tapBase + k];
        r += image.data[pixelBase + k * 3] * weight;
        g += image.data[pixelBase + k * 3 + 1] * weight;
        b += image.data[pixelBase + k * 3 + 2] * weight;
      }
      const out = (y * outWidth + x) * 3;
      data[out] = clipToByte(r);
      data[out + 1] = clipToByte(g);
      data[out + 2] = clipToByte(b);
    }
  }
  return { width: outWidth, height: rows, channels: 3, data };
}

/** Vertical pass; `rowShift` is the first input row that `image` holds. */
function resampleColumns(image: DecodedImage, axis: AxisCoefficients, rowShift: number): DecodedImage {
  const outHeight = axis.starts.length;
  const rowStride = image.width * 3;
  const data = new Uint8Array(image.width * outHeight * 3);
  for (let y = 0; y < outHeight; y++) {
    const tapBase = y * axis.kernelSize;
    const firstOffset = (axis.starts[y] - rowShift) * rowStride;
    for (let i = 0; i < rowStride; i++) {
      let accumulator = ROUNDING_HALF;
      for (let k = 0; k < axis.counts[y]; k++) {
        accumulator += image.data[firstOffset + k * rowStride + i] * axis.weights[tapBase + k];
      }
      data[y * rowStride + i] = clipToByte(accumulator);
    }
  }
  return { width: image.width, height: outHeight, channels: 3, data };
}

/**
 * Nearest-neighbour resize as Pillow's ImagingScaleAffine: the source coordinate starts at half a
 * step and is advanced by adding the step, so accumulated rounding picks the same pixels.
 */
function resizeNearest(image: DecodedImage, width: number, height: number): DecodedImage {
  const columns = nearestIndices(image.width, width);
  const rows = nearestIndices(image.height, height);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const rowOffset = rows[y] * image.width * 3;
    for (let x = 0; x < width; x++) {
      const from = rowOffset + columns[x] * 3;
      data.set(image.data.subarray(from, from + 3), (y * width + x) * 3);
    }
  }
  return { width, height, channels: 3, data };
}

function nearestIndices(inSize: number, outSize: number): Int32Array {
  const step = inSize / outSize;
  const indices = new Int32Array(outSize);
  let position = step * 0.5;
  for (let i = 0; i < outSize; i++) {
    // Pillow would leave a pixel outside the input at zero; over the whole image none is, so the
    // clamp only guards against accumulated rounding.
    indices[i] = Math.min(Math.trunc(position), inSize - 1);
    position += step;
  }
  return indices;
}
