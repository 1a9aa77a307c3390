import { crc32, deflateSync, inflateSync } from "node:zlib";

/**
 * A small PNG reader and writer for tests, independent of sharp: the reader handles 8-bit,
 * non-interlaced files (enough for the fixtures), the writer builds files of any bit depth.
 */

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
const SAMPLES_PER_PIXEL: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Decoded PNG samples as stored: one byte per sample, row-major, no conversion. */
export interface PngSamples {
  width: number;
  height: number;
  colourType: number;
  samplesPerPixel: number;
  samples: Uint8Array;
  /** PLTE entries, 3 bytes each, for colour type 3. */
  palette?: Uint8Array;
}

/** Reads an 8-bit, non-interlaced PNG into its stored samples. */
export function readPng(bytes: Buffer): PngSamples {
  if (!bytes.subarray(0, 8).equals(SIGNATURE)) throw new Error("not a PNG file");
  const chunks = readChunks(bytes);
  const header = chunks.find((chunk) => chunk.type === "IHDR")!.data;
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  const [bitDepth, colourType, , , interlace] = header.subarray(8);
  if (bitDepth !== 8 || interlace !== 0) throw new Error(`unsupported PNG: bit depth ${bitDepth}, interlace ${interlace}`);
  const samplesPerPixel = SAMPLES_PER_PIXEL[colourType];
  const compressed = Buffer.concat(chunks.filter((chunk) => chunk.type === "IDAT").map((chunk) => chunk.data));
  const samples = unfilter(inflateSync(compressed), width, height, samplesPerPixel);
  const palette = chunks.find((chunk) => chunk.type === "PLTE")?.data;
  return { width, height, colourType, samplesPerPixel, samples, palette: palette && new Uint8Array(palette) };
}

function readChunks(bytes: Buffer): Array<{ type: string; data: Buffer }> {
  const chunks: Array<{ type: string; data: Buffer }> = [];
  for (let offset = 8; offset < bytes.length; ) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString("latin1", offset + 4, offset + 8);
    chunks.push({ type, data: bytes.subarray(offset + 8, offset + 8 + length) });
    offset += 12 + length;
  }
  return chunks;
}

/** Reverses the PNG row filters (none, sub, up, average, Paeth) for 8-bit samples. */
function unfilter(filtered: Buffer, width: number, height: number, bytesPerPixel: number): Uint8Array {
  const stride = width * bytesPerPixel;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = filtered[y * (stride + 1)];
    const row = filtered.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const left = i >= bytesPerPixel ? out[y * stride + i - bytesPerPixel] : 0;
      const up = y > 0 ? out[(y - 1) * stride + i] : 0;
      const upLeft = y > 0 && i >= bytesPerPixel ? out[(y - 1) * stride + i - bytesPerPixel] : 0;
      out[y * stride + i] = (row[i] + predict(filter, left, up, upLeft)) & 0xff;
    }
  }
  return out;
}

function predict(filter: number, left: number, up: number, upLeft: number): number {
  if (filter === 0) return 0;
  if (filter === 1) return left;
  if (filter === 2) return up;
  if (filter === 3) return (left + up) >> 1;
  const estimate = left + up - upLeft;
  const distanceLeft = Math.abs(estimate - left);
  const distanceUp = Math.abs(estimate - up);
  const distanceUpLeft = Math.abs(estimate - upLeft);
  if (distanceLeft <= distanceUp && distanceLeft <= distanceUpLeft) return left;
  return distanceUp <= distanceUpLeft ? up : upLeft;
}

/**
 * Encodes samples (row-major, one number per sample) as a PNG of `bitDepth` 1, 2, 4, 8 or 16 bits,
 * with optional extra chunks before IDAT. Samples below 8 bits are packed high bits first.
 */
export function writePng(
  width: number,
  height: number,
  bitDepth: 1 | 2 | 4 | 8 | 16,
  colourType: number,
  samples: number[],
  extraChunks: Array<{ type: string; data: Buffer }> = [],
): Buffer {
  const rowSamples = width * SAMPLES_PER_PIXEL[colourType];
  const rowBytes = Math.ceil((rowSamples * bitDepth) / 8);
  const raw = Buffer.alloc(height * (1 + rowBytes));
  samples.forEach((value, index) => {
    const rowStart = Math.floor(index / rowSamples) * (1 + rowBytes) + 1;
    const bitOffset = (index % rowSamples) * bitDepth;
    if (bitDepth === 16) raw.writeUInt16BE(value, rowStart + bitOffset / 8);
    else raw[rowStart + (bitOffset >> 3)] |= value << (8 - bitDepth - (bitOffset & 7));
  });
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = bitDepth;
  header[9] = colourType;
  const chunks = [{ type: "IHDR", data: header }, ...extraChunks, { type: "IDAT", data: deflateSync(raw) }];
  chunks.push({ type: "IEND", data: Buffer.alloc(0) });
  return Buffer.concat([SIGNATURE, ...chunks.map(encodeChunk)]);
}

function encodeChunk(chunk: { type: string; data: Buffer }): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(chunk.data.length);
  const typeAndData = Buffer.concat([Buffer.from(chunk.type, "latin1"), chunk.data]);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, checksum]);
}
