import { getLogger } from "@mm/core";

import type { DecodedAudio } from "./decoded-audio";
import { averageInterleaved } from "./downmix";
import { WAVE_FORMAT_IEEE_FLOAT, readWavLayout, type WavFormat } from "./wav-header";

const logger = getLogger("processor/audio");

/**
 * Decodes a RIFF WAV file to mono float32, with the values soundfile (libsndfile) returns for
 * `dtype="float32"` followed by librosa's channel mean:
 * - integer PCM of 9 to 32 bits: signed value / 2^(8 * container bytes - 1), so 16-bit / 32768;
 * - integer PCM of 8 bits or fewer: (unsigned value - 128) / 128;
 * - IEEE float of 32 or 64 bits: the stored value, rounded to float32.
 * WAVE_FORMAT_EXTENSIBLE files are read by their SubFormat.
 * @param source the file path or a description of the Buffer, for error messages.
 * @throws InputError for a file that is not a supported, complete WAV file.
 */
export function decodeWav(bytes: Buffer, source: string, file?: string): DecodedAudio {
  const { format, dataStart, dataEnd } = readWavLayout(bytes, source, file);
  const frameBytes = format.channels * format.bytesPerSample;
  const frames = Math.floor((dataEnd - dataStart) / frameBytes);
  if ((dataEnd - dataStart) % frameBytes !== 0) {
    logger.debug(`${source}: the data chunk ends in a partial frame, which is ignored`);
  }
  const read = sampleReader(bytes, dataStart, format);
  return { samples: averageInterleaved(frames, format.channels, read), sampleRate: format.sampleRate };
}

/** Returns a function that reads sample `index` of the interleaved data as a float. */
function sampleReader(bytes: Buffer, start: number, format: WavFormat): (index: number) => number {
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, bytes.length - start);
  const width = format.bytesPerSample;
  if (format.encoding === WAVE_FORMAT_IEEE_FLOAT) {
    return width === 4 ? (index) => view.getFloat32(index * 4, true) : (index) => Math.fround(view.getFloat64(index * 8, true));
  }
  switch (width) {
    case 1:
      return (index) => (view.getUint8(index) - 128) / 128;
    case 2:
      return (index) => view.getInt16(index * 2, true) / 32768;
    case 3:
      return (index) => readInt24(view, index * 3) / 8388608;
    default:
      // libsndfile rounds the int32 to float32 before scaling, and the scaling by 2^-31 is exact.
      return (index) => Math.fround(view.getInt32(index * 4, true)) / 2147483648;
  }
}

function readInt24(view: DataView, offset: number): number {
  const unsigned = view.getUint8(offset) | (view.getUint8(offset + 1) << 8) | (view.getUint8(offset + 2) << 16);
  return unsigned >= 0x800000 ? unsigned - 0x1000000 : unsigned;
}
