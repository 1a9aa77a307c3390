import { InputError } from "@mm/core";

import { checkDecodedImage, type DecodedImage } from "./decoded-image";

/** A size in pixels, height first as in preprocessor_config.json. */
export interface ImageSize {
  height: number;
  width: number;
}

/**
 * Crops the centre `size` region of an RGB image as transformers' `center_crop` does: the
 * top-left corner is `floor((H - height) / 2), floor((W - width) / 2)`. Where the crop is larger
 * than the image, the image is first padded with zeros, `ceil(missing / 2)` rows or columns
 * before it, so the result always has the requested size.
 *
 * @param image uint8 RGB `[H, W, 3]`.
 * @returns uint8 RGB `[size.height, size.width, 3]`.
 */
export function centerCrop(image: DecodedImage, size: ImageSize): DecodedImage {
  checkDecodedImage(image);
  const { height, width } = size;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new InputError(`crop size must be positive integers, got height ${height} and width ${width}`);
  }
  // Rows and columns of the output that hold image pixels, and where they come from.
  const rows = cropSpan(image.height, height);
  const columns = cropSpan(image.width, width);
  const data = new Uint8Array(height * width * 3);
  const rowBytes = columns.count * 3;
  for (let y = 0; y < rows.count; y++) {
    const from = ((rows.source + y) * image.width + columns.source) * 3;
    data.set(image.data.subarray(from, from + rowBytes), ((rows.target + y) * width + columns.target) * 3);
  }
  return { width, height, channels: 3, data };
}

interface Span {
  source: number;
  target: number;
  count: number;
}

/**
 * Computes, along one axis, the first input index copied, the output index it lands on and how
 * many are copied. When the crop is larger, the image sits `ceil(missing / 2)` from the start,
 * as in the current transformers `image_transforms.center_crop`.
 * NOTE: older transformers releases floor that padding, so they return one row or column short
 * when the missing amount is odd. Which release changed it was not checked.
 */
function cropSpan(inSize: number, outSize: number): Span {
  const offset = Math.floor((inSize - outSize) / 2);
  if (offset >= 0) return { source: offset, target: 0, count: outSize };
  return { source: 0, target: Math.ceil((outSize - inSize) / 2), count: inSize };
}
