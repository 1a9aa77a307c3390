import { InputError } from "@mm/core";
import { readMediaFile } from "../files/read-media-file";

import { checkDecodedAudio, describeValue, hasSamplesField, type AudioInput, type DecodedAudio } from "./decoded-audio";
import { decodeFlac } from "./flac";
import { decodeWav } from "./wav";

const SUPPORTED_TEXT = "WAV (integer PCM or IEEE float) and FLAC";

/**
 * Decodes an audio file, encoded file bytes or decoded samples to mono float32 at the file's own
 * sampling rate. Resample the result with `resampleAudio` to the rate a feature extractor needs.
 *
 * WAV (8 to 32-bit integer PCM, 32/64-bit float, plain or WAVE_FORMAT_EXTENSIBLE) and native FLAC
 * are decoded to the values soundfile returns with `dtype="float32"`. Several channels are
 * averaged into one, as librosa.load (used by transformers' audio loading) does with `mono=True`.
 * A `{ samples, sampleRate }` object is checked and returned as it is.
 *
 * @returns float32 samples `[numSamples]` and their sampling rate in Hz.
 * @throws InputError when the file is missing or unreadable, corrupt, truncated or of an
 *   unsupported format, or when samples come without a sampleRate.
 */
export async function loadAudio(input: AudioInput): Promise<DecodedAudio> {
  if (typeof input === "string") return decodeAudio(await readMediaFile(input, "audio"), input, input);
  if (Buffer.isBuffer(input)) return decodeAudio(input, `from a Buffer of ${input.length} bytes`);
  if (hasSamplesField(input)) return checkDecodedAudio(input);
  const value: unknown = input;
  if (value instanceof Float32Array || Array.isArray(value)) {
    throw new InputError(
      `loadAudio received bare samples (${describeValue(value)}) without a sampling rate; ` +
        `pass { samples: Float32Array, sampleRate } with the rate in Hz`,
    );
  }
  throw new InputError(
    `loadAudio expects a file path, a Buffer of encoded bytes or { samples, sampleRate }, got ${describeValue(value)}`,
  );
}

async function decodeAudio(bytes: Buffer, source: string, file?: string): Promise<DecodedAudio> {
  const magic = bytes.toString("latin1", 0, 4);
  if (isRiffContainer(bytes)) return decodeWav(bytes, source, file);
  if (magic === "fLaC") return decodeFlac(bytes, source, file);
  const detected = magic === "OggS" ? "an Ogg file (Vorbis, Opus or Ogg FLAC)" : isMp3(bytes) ? "an MP3 file" : "not a WAV or FLAC file";
  throw new InputError(
    `cannot decode audio ${source}: it is ${detected}; supported formats are ${SUPPORTED_TEXT}, ` +
      `so convert it (for example: ffmpeg -i input -ar 16000 -ac 1 output.wav)`,
    file,
  );
}

function isRiffContainer(bytes: Buffer): boolean {
  const magic = bytes.toString("latin1", 0, 4);
  return magic === "RIFF" || magic === "RIFX" || magic === "RF64";
}

/** Tells whether the bytes start with an ID3 tag or an MPEG audio frame sync (11 set bits). */
function isMp3(bytes: Buffer): boolean {
  if (bytes.toString("latin1", 0, 3) === "ID3") return true;
  return bytes.length >= 2 && bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0;
}
