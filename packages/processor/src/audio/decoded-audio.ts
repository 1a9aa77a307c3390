import { InputError } from "@mm/core";

/** Mono audio: float32 samples, nominally in [-1, 1], and their sampling rate. */
export interface DecodedAudio {
  /** float32 `[numSamples]`. */
  samples: Float32Array;
  /** Samples per second, in Hz. */
  sampleRate: number;
}

/** One audio clip as the loaders accept it: a file path, encoded file bytes or DecodedAudio. */
export type AudioInput = string | Buffer | DecodedAudio;

/** Tells whether the value is an object with a `samples` field (checked further by checkDecodedAudio). */
export function hasSamplesField(value: unknown): value is { samples: unknown; sampleRate?: unknown } {
  return typeof value === "object" && value !== null && !Buffer.isBuffer(value) && "samples" in value;
}

/**
 * Checks that `audio` is mono float32 samples with a positive, finite sampling rate.
 * @throws InputError for a missing or invalid sampleRate, or samples that are not a Float32Array.
 */
export function checkDecodedAudio(audio: { samples: unknown; sampleRate?: unknown }): DecodedAudio {
  const { samples, sampleRate } = audio;
  if (!(samples instanceof Float32Array)) {
    throw new InputError(
      `audio samples must be a Float32Array of mono samples, got ${describeValue(samples)}; ` +
        `convert them with Float32Array.from(...) and average the channels first`,
    );
  }
  if (sampleRate === undefined) {
    throw new InputError(
      `audio samples (${samples.length} values) have no sampleRate; pass { samples, sampleRate } ` +
        `with the rate in Hz so the audio can be resampled correctly`,
    );
  }
  if (typeof sampleRate !== "number" || !Number.isFinite(sampleRate) || sampleRate <= 0) {
    throw new InputError(`audio sampleRate must be a positive number of Hz, got ${JSON.stringify(sampleRate)}`);
  }
  return { samples, sampleRate };
}

/** Names the type of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  return typeof value;
}
