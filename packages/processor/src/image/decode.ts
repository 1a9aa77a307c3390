import { InputError, getLogger } from "@mm/core";
import { readMediaFile } from "../files/read-media-file";
import sharp, { type Metadata, type SharpOptions } from "sharp";

import { checkDecodedImage, isDecodedImage, type DecodedImage } from "./decoded-image";
import { firstFrameTransparentColour } from "./gif-transparency";
import { cmykToRgb, grey16ToRgb, interleavedToRgb } from "./rgb-conversion";

const logger = getLogger("processor/image");

const SUPPORTED_FORMATS = new Set(["jpeg", "png", "gif", "webp"]);
const SUPPORTED_TEXT = "JPEG, PNG, GIF, WebP";

/**
 * sharp options for every decode:
 * - failOn "truncated" rejects truncated and corrupt files, as Pillow does unless
 *   ImageFile.LOAD_TRUNCATED_IMAGES is set. sharp's default, "warning", would also reject files
 *   whose only fault is a libjpeg warning, which Pillow ignores.
 * - ignoreIcc keeps the stored values, because Pillow's convert("RGB") applies no ICC profile.
 * - autoOrient applies the EXIF orientation, as transformers' load_image does with
 *   ImageOps.exif_transpose.
 * - page 0 of 1 page is the first frame of an animated GIF or WebP, the frame Pillow opens.
 */
const SHARP_OPTIONS: SharpOptions = {
  failOn: "truncated",
  ignoreIcc: true,
  autoOrient: true,
  pages: 1,
  page: 0,
};

/**
 * Decodes an image file or encoded bytes to 8-bit RGB, with the pixel values Hugging Face image
 * processors get from `PIL.Image.open(...)` followed by `.convert("RGB")`.
 *
 * Supports JPEG, PNG (1 to 16 bits, palette, grey, alpha), GIF (first frame) and WebP (first
 * frame). The EXIF orientation is applied. Alpha is dropped, not composited, and transparent GIF
 * pixels take their palette colour. 16-bit samples keep their high byte, except 16-bit greyscale
 * PNG samples, which are clipped to 255 as Pillow does.
 * A DecodedImage input is checked and returned as it is.
 *
 * @returns uint8 RGB pixels, `[height, width, 3]` row-major.
 * @throws InputError when the file is missing or unreadable, corrupt, truncated or of another
 *   format.
 */
export async function loadImage(input: string | Buffer | DecodedImage): Promise<DecodedImage> {
  if (isDecodedImage(input)) return checkDecodedImage(input);
  if (typeof input === "string") return decodeImage(await readMediaFile(input, "image"), input);
  if (Buffer.isBuffer(input)) return decodeImage(input, `from a Buffer of ${input.length} bytes`);
  throw new InputError(
    `loadImage expects a file path, a Buffer of encoded bytes or a DecodedImage, got ${describe(input)}`,
  );
}

async function decodeImage(bytes: Buffer, source: string): Promise<DecodedImage> {
  const metadata = await readMetadata(bytes, source);
  try {
    if (isGrey16Png(bytes, metadata)) return await decodeGrey16(bytes, source);
    if (metadata.space === "cmyk") return await decodeCmyk(bytes);
    return await decodeEightBit(bytes, metadata);
  } catch (error) {
    throw decodeError(source, error);
  }
}

async function readMetadata(bytes: Buffer, source: string): Promise<Metadata> {
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, SHARP_OPTIONS).metadata();
  } catch (error) {
    throw decodeError(source, error);
  }
  if (!metadata.format || !SUPPORTED_FORMATS.has(metadata.format)) {
    throw new InputError(
      `unsupported image format ${metadata.format ?? "unknown"} in image ${source}; ` +
        `convert it to one of ${SUPPORTED_TEXT}`,
      fileOf(source),
    );
  }
  return metadata;
}

async function decodeEightBit(bytes: Buffer, metadata: Metadata): Promise<DecodedImage> {
  const { data, info } = await sharp(bytes, SHARP_OPTIONS).raw().toBuffer({ resolveWithObject: true });
  if (metadata.format === "gif" && info.channels === 4) restoreGifTransparentColour(data, bytes);
  const rgb = info.channels === 3 ? new Uint8Array(data) : interleavedToRgb(data, info.channels);
  return { width: info.width, height: info.height, channels: 3, data: rgb };
}

/** Gives RGBA pixels with alpha 0 the GIF's transparent palette colour, as Pillow shows them. */
function restoreGifTransparentColour(rgba: Buffer, gif: Buffer): void {
  const colour = firstFrameTransparentColour(gif);
  if (colour === undefined) return;
  for (let offset = 0; offset < rgba.length; offset += 4) {
    if (rgba[offset + 3] === 0) rgba.set(colour, offset);
  }
}

async function decodeGrey16(bytes: Buffer, source: string): Promise<DecodedImage> {
  const { data, info } = await sharp(bytes, SHARP_OPTIONS)
    .toColourspace("grey16")
    .raw({ depth: "ushort" })
    .toBuffer({ resolveWithObject: true });
  // A Uint16Array view needs an even byte offset; copy the bytes when the Buffer has an odd one.
  const aligned = data.byteOffset % 2 === 0 ? data : Buffer.from(data);
  const samples = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2);
  logger.debug(`${source}: 16-bit greyscale PNG, values above 255 are clipped to 255 as Pillow does`);
  return { width: info.width, height: info.height, channels: 3, data: grey16ToRgb(samples, info.channels) };
}

async function decodeCmyk(bytes: Buffer): Promise<DecodedImage> {
  const { data, info } = await sharp(bytes, SHARP_OPTIONS)
    .toColourspace("cmyk")
    .raw()
    .toBuffer({ resolveWithObject: true });
  // NOTE: Pillow's CMYK -> RGB formula is applied to the CMYK values libvips decodes; no CMYK
  // JPEG has been compared with Pillow's output, so Adobe-inverted files may differ.
  return { width: info.width, height: info.height, channels: 3, data: cmykToRgb(data) };
}

/**
 * Tells whether the bytes are a 16-bit greyscale PNG (IHDR colour type 0), the one layout that
 * Pillow converts by clipping instead of keeping the high byte. A 16-bit grey PNG with a tRNS
 * chunk looks like grey plus alpha to sharp, so this reads the IHDR chunk itself.
 */
function isGrey16Png(bytes: Buffer, metadata: Metadata): boolean {
  if (metadata.format !== "png" || bytes.length < 26) return false;
  const bitDepth = bytes[24];
  const colourType = bytes[25];
  return bitDepth === 16 && colourType === 0;
}

function decodeError(source: string, error: unknown): InputError {
  const reason = firstLine(error instanceof Error ? error.message : String(error));
  return new InputError(
    `cannot decode image ${source}: ${reason}; the file is corrupt or not an image ` +
      `(supported: ${SUPPORTED_TEXT})`,
    fileOf(source),
  );
}

function firstLine(message: string): string {
  return message.split("\n")[0].trim();
}

function fileOf(source: string): string | undefined {
  return source.startsWith("from a Buffer") ? undefined : source;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object without a data field" : typeof value;
}
