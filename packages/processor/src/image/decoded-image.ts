import { InputError } from "@mm/core";

/**
 * An 8-bit RGB image in memory: `data` is uint8, row-major HWC (`[height, width, 3]`), the layout
 * of `np.array(pil_image.convert("RGB"))`.
 */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 3;
  data: Uint8Array;
}

/** Checks that `image` is a consistent DecodedImage and returns it unchanged. */
export function checkDecodedImage(image: DecodedImage, name = "image"): DecodedImage {
  const { width, height, channels, data } = image;
  const sizeIsValid = Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0;
  if (!sizeIsValid || channels !== 3 || !(data instanceof Uint8Array)) {
    throw new InputError(
      `${name}: expected a decoded RGB image with positive integer width and height, channels 3 and ` +
        `Uint8Array data, got width ${width}, height ${height}, channels ${channels}; ` +
        `decode files with loadImage`,
    );
  }
  if (data.length !== width * height * 3) {
    throw new InputError(
      `${name}: data has ${data.length} bytes but width ${width} x height ${height} x 3 channels ` +
        `needs ${width * height * 3}; the data must be row-major HWC RGB`,
    );
  }
  return image;
}

/** Tells a DecodedImage apart from a path or an encoded Buffer. */
export function isDecodedImage(value: unknown): value is DecodedImage {
  return typeof value === "object" && value !== null && !Buffer.isBuffer(value) && "data" in value;
}
