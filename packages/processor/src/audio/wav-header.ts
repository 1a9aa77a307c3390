import { InputError } from "@mm/core";

/** WAVE_FORMAT_PCM: integer samples. */
export const WAVE_FORMAT_PCM = 0x0001;
/** WAVE_FORMAT_IEEE_FLOAT: 32- or 64-bit float samples. */
export const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
/** WAVE_FORMAT_EXTENSIBLE: the real encoding is the first two bytes of the SubFormat GUID. */
export const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** The tail shared by every KSDATAFORMAT_SUBTYPE GUID for a WAVE format code (bytes 2 to 15). */
const SUBFORMAT_GUID_TAIL = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]);

/** Names of common format tags, for error messages. */
const FORMAT_NAMES: Record<number, string> = {
  0x0002: "Microsoft ADPCM",
  0x0006: "A-law",
  0x0007: "mu-law",
  0x0011: "IMA ADPCM",
  0x0031: "GSM 6.10",
  0x0050: "MPEG",
  0x0055: "MP3",
};

/** Sample format declared by a WAV file's fmt chunk, with EXTENSIBLE resolved to its sub-format. */
export interface WavFormat {
  /** WAVE_FORMAT_PCM or WAVE_FORMAT_IEEE_FLOAT. */
  encoding: number;
  channels: number;
  sampleRate: number;
  /** Bytes of one sample of one channel (the container width). */
  bytesPerSample: number;
  bitsPerSample: number;
}

/** The fmt chunk and the byte range of the sample data. */
export interface WavLayout {
  format: WavFormat;
  dataStart: number;
  dataEnd: number;
}

interface Chunk {
  id: string;
  start: number;
  size: number;
}

/**
 * Reads the RIFF/WAVE container: the fmt chunk and the position of the data chunk.
 * @param source the file path or a description of the Buffer, for error messages.
 * @throws InputError when the bytes are not a little-endian RIFF WAVE file, a chunk is missing or
 *   truncated, or the encoding is not integer PCM or IEEE float.
 */
export function readWavLayout(bytes: Buffer, source: string, file?: string): WavLayout {
  const fail = (reason: string) => new InputError(`invalid WAV file ${source}: ${reason}`, file);
  const chunks = readChunks(bytes, fail);
  const fmt = chunks.find((chunk) => chunk.id === "fmt ");
  const data = chunks.find((chunk) => chunk.id === "data");
  if (!fmt) throw fail("it has no fmt chunk");
  if (!data) throw fail("it has no data chunk");
  const format = readFormat(bytes.subarray(fmt.start, fmt.start + fmt.size), source, file, fail);
  return { format, dataStart: data.start, dataEnd: dataEnd(bytes, data, fail) };
}

function readChunks(bytes: Buffer, fail: (reason: string) => InputError): Chunk[] {
  if (bytes.length < 12 || bytes.toString("latin1", 8, 12) !== "WAVE") throw fail("it does not start with a RIFF WAVE header");
  const riff = bytes.toString("latin1", 0, 4);
  if (riff !== "RIFF") {
    throw fail(`${riff} containers (big-endian RIFX, RF64) are not supported; convert the file to a standard RIFF WAV`);
  }
  const chunks: Chunk[] = [];
  for (let offset = 12; offset + 8 <= bytes.length; ) {
    const chunk = { id: bytes.toString("latin1", offset, offset + 4), start: offset + 8, size: bytes.readUInt32LE(offset + 4) };
    chunks.push(chunk);
    if (chunk.id === "data") break;
    // Chunks are padded to an even size.
    offset = chunk.start + chunk.size + (chunk.size % 2);
  }
  return chunks;
}

/**
 * Returns where the sample data ends. A data size of 0xFFFFFFFF is the placeholder that streaming
 * writers leave, and is read to the end of the file. Any other size beyond the file is truncation.
 */
function dataEnd(bytes: Buffer, data: Chunk, fail: (reason: string) => InputError): number {
  if (data.size === 0xffffffff) return bytes.length;
  const end = data.start + data.size;
  if (end > bytes.length) {
    throw fail(
      `the data chunk declares ${data.size} bytes but only ${bytes.length - data.start} follow; ` +
        `the file is truncated, so re-export or re-download it`,
    );
  }
  return end;
}

function readFormat(fmt: Buffer, source: string, file: string | undefined, fail: (reason: string) => InputError): WavFormat {
  if (fmt.length < 16) throw fail(`the fmt chunk has ${fmt.length} bytes, fewer than the 16 it needs`);
  const tag = fmt.readUInt16LE(0);
  const format: WavFormat = {
    encoding: tag === WAVE_FORMAT_EXTENSIBLE ? extensibleSubFormat(fmt, fail) : tag,
    channels: fmt.readUInt16LE(2),
    sampleRate: fmt.readUInt32LE(4),
    bitsPerSample: fmt.readUInt16LE(14),
    bytesPerSample: Math.ceil(fmt.readUInt16LE(14) / 8),
  };
  checkFormat(format, fmt.readUInt16LE(12), source, file, fail);
  return format;
}

function extensibleSubFormat(fmt: Buffer, fail: (reason: string) => InputError): number {
  // cbSize (offset 16) must cover validBits (2), channelMask (4) and the SubFormat GUID (16).
  if (fmt.length < 40 || fmt.readUInt16LE(16) < 22) throw fail("its WAVE_FORMAT_EXTENSIBLE fmt chunk is shorter than 40 bytes");
  const guid = fmt.subarray(24, 40);
  if (!guid.subarray(2).equals(SUBFORMAT_GUID_TAIL)) {
    throw fail(`its WAVE_FORMAT_EXTENSIBLE SubFormat GUID ${guid.toString("hex")} is not a standard WAVE format`);
  }
  return guid.readUInt16LE(0);
}

function checkFormat(
  format: WavFormat,
  blockAlign: number,
  source: string,
  file: string | undefined,
  fail: (reason: string) => InputError,
): void {
  const { encoding, channels, sampleRate, bitsPerSample, bytesPerSample } = format;
  const supported =
    (encoding === WAVE_FORMAT_PCM && bitsPerSample >= 1 && bitsPerSample <= 32) ||
    (encoding === WAVE_FORMAT_IEEE_FLOAT && (bitsPerSample === 32 || bitsPerSample === 64));
  if (!supported) {
    throw new InputError(
      `unsupported WAV encoding in ${source}: ${encodingName(encoding)} with ${bitsPerSample} bits per sample; ` +
        `supported are integer PCM of 8 to 32 bits and 32- or 64-bit float, so convert the file ` +
        `(for example: ffmpeg -i in.wav -c:a pcm_s16le out.wav)`,
      file,
    );
  }
  if (channels === 0) throw fail("its fmt chunk declares 0 channels");
  if (sampleRate === 0) throw fail("its fmt chunk declares a sampling rate of 0 Hz");
  if (blockAlign !== channels * bytesPerSample) {
    throw fail(`its block align is ${blockAlign} bytes, but ${channels} channels of ${bitsPerSample}-bit samples need ${channels * bytesPerSample}`);
  }
}

function encodingName(encoding: number): string {
  const hex = `0x${encoding.toString(16).padStart(4, "0")}`;
  if (encoding === WAVE_FORMAT_PCM) return `integer PCM (${hex})`;
  if (encoding === WAVE_FORMAT_IEEE_FLOAT) return `IEEE float (${hex})`;
  return FORMAT_NAMES[encoding] ? `${FORMAT_NAMES[encoding]} (${hex})` : `format tag ${hex}`;
}
