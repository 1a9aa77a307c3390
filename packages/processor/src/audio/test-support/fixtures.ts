import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

import type { ReferenceArray } from "../../test-support/reference-arrays";

export { compareArrays, maxAbsoluteError, sha256Hex } from "../../test-support/reference-arrays";
export type { ReferenceArray };

/** Test fixtures of the audio processor: speech WAVs and transformers 4.40.2 reference arrays. */
export const FIXTURE_DIR = fileURLToPath(new URL("../../../test-fixtures/audio/", import.meta.url));

/** Returns the absolute path of a file under test-fixtures/audio/. */
export function fixturePath(name: string): string {
  return FIXTURE_DIR + name;
}

/** The Whisper fixture's refs.json, reduced to the fields the tests read. */
export interface WhisperReferences {
  audio: { sample_rate: number; num_samples: number; wav_sha256: string };
  inputs: { waveform: ReferenceArray };
  outputs: Record<"input_features" | "input_features_numpy_path" | "mel_filters", ReferenceArray>;
  torch_vs_numpy_path_max_abs_diff?: number;
}

/** Reads test-fixtures/audio/whisper/refs.json. */
export function readWhisperReferences(): WhisperReferences {
  return JSON.parse(readFileSync(fixturePath("whisper/refs.json"), "utf8")) as WhisperReferences;
}

/** Reads a float32 array from the Whisper fixture; `.gz` files are decompressed. */
export function readFloat32Reference(name: string): Float32Array {
  const bytes = readReferenceBytes(name);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

/** Reads a float64 array from the Whisper fixture. */
export function readFloat64Reference(name: string): Float64Array {
  const bytes = readReferenceBytes(name);
  return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
}

/** Reads a fixture file into a fresh, 8-byte aligned buffer so typed-array views are valid. */
function readReferenceBytes(name: string): Uint8Array {
  const raw = readFileSync(fixturePath(`whisper/${name}`));
  const bytes = name.endsWith(".gz") ? gunzipSync(raw) : raw;
  return new Uint8Array(bytes);
}
