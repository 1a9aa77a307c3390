/**
 * Builds WAV files for tests, independent of the decoder under test. Integer PCM samples are given
 * as the stored integer codes (unsigned for 8 bits, signed otherwise), float samples as values.
 */

/** KSDATAFORMAT_SUBTYPE GUID bytes after the two-byte format code. */
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

export interface WavSpec {
  encoding: "pcm" | "float";
  bitsPerSample: 8 | 16 | 24 | 32 | 64;
  sampleRate: number;
  channels: number;
  /** Interleaved samples: frame 0 channel 0, frame 0 channel 1, ... */
  samples: number[];
  /** Write a 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk instead of the plain 16-byte one. */
  extensible?: boolean;
  /** Chunks to place between fmt and data, such as LIST; odd sizes get a pad byte. */
  extraChunks?: Array<{ id: string; data: Buffer }>;
}

/** Returns the bytes of a RIFF WAV file with the given format and samples. */
export function writeWav(spec: WavSpec): Buffer {
  const chunks = [chunk("fmt ", formatChunk(spec))];
  for (const extra of spec.extraChunks ?? []) chunks.push(chunk(extra.id, extra.data));
  chunks.push(chunk("data", sampleBytes(spec)));
  const body = Buffer.concat([Buffer.from("WAVE", "latin1"), ...chunks]);
  const header = Buffer.alloc(8);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body]);
}

function chunk(id: string, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, "latin1");
  header.writeUInt32LE(data.length, 4);
  const pad = data.length % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0);
  return Buffer.concat([header, data, pad]);
}

function formatChunk(spec: WavSpec): Buffer {
  const code = spec.encoding === "pcm" ? 1 : 3;
  const bytesPerSample = spec.bitsPerSample / 8;
  const fmt = Buffer.alloc(spec.extensible ? 40 : 16);
  fmt.writeUInt16LE(spec.extensible ? 0xfffe : code, 0);
  fmt.writeUInt16LE(spec.channels, 2);
  fmt.writeUInt32LE(spec.sampleRate, 4);
  fmt.writeUInt32LE(spec.sampleRate * spec.channels * bytesPerSample, 8);
  fmt.writeUInt16LE(spec.channels * bytesPerSample, 12);
  fmt.writeUInt16LE(spec.bitsPerSample, 14);
  if (spec.extensible) {
    fmt.writeUInt16LE(22, 16); // cbSize
    fmt.writeUInt16LE(spec.bitsPerSample, 18); // valid bits
    fmt.writeUInt32LE(0, 20); // channel mask: unspecified
    fmt.writeUInt16LE(code, 24);
    Buffer.from(GUID_TAIL).copy(fmt, 26);
  }
  return fmt;
}

function sampleBytes(spec: WavSpec): Buffer {
  const width = spec.bitsPerSample / 8;
  const data = Buffer.alloc(spec.samples.length * width);
  spec.samples.forEach((value, index) => {
    const offset = index * width;
    if (spec.encoding === "float") {
      if (width === 4) data.writeFloatLE(value, offset);
      else data.writeDoubleLE(value, offset);
    } else if (width === 1) {
      data.writeUInt8(value, offset);
    } else {
      data.writeIntLE(value, offset, width);
    }
  });
  return data;
}
