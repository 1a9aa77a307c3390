/**
 * A minimal FLAC encoder for tests: one STREAMINFO block and fixed-size frames whose subframes are
 * all VERBATIM (uncompressed), with the frame header CRC-8 and frame CRC-16 that decoders check.
 * The STREAMINFO MD5 is left as zeros, which the format defines as "not computed".
 */

class BitWriter {
  private readonly bytes: number[] = [];
  private current = 0;
  private filled = 0;

  /** Appends the low `count` bits of `value`, most significant first (count up to 36). */
  write(value: number, count: number): void {
    for (let bit = count - 1; bit >= 0; bit--) {
      const set = Math.floor(value / 2 ** bit) % 2;
      this.current = (this.current << 1) | set;
      this.filled++;
      if (this.filled === 8) this.flushByte();
    }
  }

  /** Pads with zero bits to the next byte boundary. */
  alignToByte(): void {
    while (this.filled !== 0) this.write(0, 1);
  }

  get length(): number {
    return this.bytes.length;
  }

  toBytes(): number[] {
    return [...this.bytes];
  }

  private flushByte(): void {
    this.bytes.push(this.current & 0xff);
    this.current = 0;
    this.filled = 0;
  }
}

/** CRC-8 with polynomial x^8 + x^2 + x + 1, initial value 0, as FLAC frame headers use. */
function crc8(bytes: number[]): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/** CRC-16 with polynomial x^16 + x^15 + x^2 + 1, initial value 0, as FLAC frame footers use. */
function crc16(bytes: number[]): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x8005) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** FLAC's UTF-8-like coding of the frame number, for numbers below 2^16. */
function writeFrameNumber(writer: BitWriter, frame: number): void {
  if (frame < 0x80) return writer.write(frame, 8);
  if (frame < 0x800) {
    writer.write(0xc0 | (frame >> 6), 8);
    return writer.write(0x80 | (frame & 0x3f), 8);
  }
  writer.write(0xe0 | (frame >> 12), 8);
  writer.write(0x80 | ((frame >> 6) & 0x3f), 8);
  writer.write(0x80 | (frame & 0x3f), 8);
}

const SAMPLE_SIZE_CODES: Record<number, number> = { 8: 0b001, 16: 0b100, 24: 0b110 };

/**
 * Encodes integer samples as a FLAC file.
 * @param channels one Int32Array per channel, all of the same length, values within `bitDepth`.
 * @param sampleRate in Hz, below 65536 because each frame header repeats it as a 16-bit field.
 * @param bitDepth 8, 16 or 24.
 */
export function writeFlac(channels: Int32Array[], sampleRate: number, bitDepth: 8 | 16 | 24, blockSize = 4096): Buffer {
  const totalSamples = channels[0].length;
  const stream = new BitWriter();
  for (const char of "fLaC") stream.write(char.charCodeAt(0), 8);
  writeStreamInfo(stream, channels.length, sampleRate, bitDepth, blockSize, totalSamples);
  const bytes = stream.toBytes();
  for (let start = 0, frame = 0; start < totalSamples; start += blockSize, frame++) {
    const end = Math.min(start + blockSize, totalSamples);
    bytes.push(...encodeFrame(channels.map((channel) => channel.subarray(start, end)), frame, sampleRate, bitDepth));
  }
  return Buffer.from(bytes);
}

function writeStreamInfo(
  stream: BitWriter,
  channelCount: number,
  sampleRate: number,
  bitDepth: number,
  blockSize: number,
  totalSamples: number,
): void {
  stream.write(1, 1); // last metadata block
  stream.write(0, 7); // STREAMINFO
  stream.write(34, 24);
  stream.write(blockSize, 16);
  stream.write(blockSize, 16);
  stream.write(0, 24); // minimum frame size unknown
  stream.write(0, 24); // maximum frame size unknown
  stream.write(sampleRate, 20);
  stream.write(channelCount - 1, 3);
  stream.write(bitDepth - 1, 5);
  stream.write(totalSamples, 36);
  for (let i = 0; i < 16; i++) stream.write(0, 8); // MD5 not computed
}

function encodeFrame(channels: Int32Array[], frame: number, sampleRate: number, bitDepth: number): number[] {
  const writer = new BitWriter();
  writer.write(0b11111111111110, 14);
  writer.write(0, 1); // reserved
  writer.write(0, 1); // fixed block size
  writer.write(0b0111, 4); // block size - 1 follows as 16 bits
  writer.write(0b1101, 4); // sample rate in Hz follows as 16 bits
  writer.write(channels.length - 1, 4); // independent channels
  writer.write(SAMPLE_SIZE_CODES[bitDepth], 3);
  writer.write(0, 1); // reserved
  writeFrameNumber(writer, frame);
  writer.write(channels[0].length - 1, 16);
  writer.write(sampleRate, 16);
  writer.write(crc8(writer.toBytes()), 8);
  for (const channel of channels) {
    writer.write(0, 1); // padding bit
    writer.write(0b000001, 6); // VERBATIM
    writer.write(0, 1); // no wasted bits
    for (const sample of channel) writer.write(sample < 0 ? sample + 2 ** bitDepth : sample, bitDepth);
  }
  writer.alignToByte();
  const bytes = writer.toBytes();
  const crc = crc16(bytes);
  return [...bytes, crc >> 8, crc & 0xff];
}
