import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

/** Test fixtures of the image processor: photos and transformers 4.40.2 reference arrays. */
export const FIXTURE_DIR = fileURLToPath(new URL("../../../test-fixtures/image/", import.meta.url));

/** Returns the absolute path of a file under test-fixtures/image/. */
export function fixturePath(name: string): string {
  return FIXTURE_DIR + name;
}

/** One array entry of the CLIP fixture's refs.json. */
export interface ReferenceArray {
  file: string;
  dtype: string;
  shape: number[];
  sha256: string;
}

/** The CLIP fixture's refs.json, reduced to the fields the tests read. */
export interface ClipReferences {
  outputs: Record<string, ReferenceArray>;
}

/** Reads test-fixtures/image/clip/refs.json. */
export function readClipReferences(): ClipReferences {
  return JSON.parse(readFileSync(fixturePath("clip/refs.json"), "utf8")) as ClipReferences;
}

/** Reads a uint8 reference array from the CLIP fixture. */
export function readUint8Reference(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(`clip/${name}`)));
}

/** Reads HF's float32 pixel_values `[2, 3, 224, 224]` (stored gzip-compressed). */
export function readPixelValuesReference(): Float32Array {
  const bytes = gunzipSync(readFileSync(fixturePath("clip/pixel_values.f32.bin.gz")));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** Returns the hex SHA-256 of the bytes, to compare with refs.json. */
export function sha256Hex(data: ArrayBufferView): string {
  return createHash("sha256").update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest("hex");
}

/** Returns the largest absolute element difference and how many elements differ. */
export function compareArrays(actual: ArrayLike<number>, expected: ArrayLike<number>): { maxError: number; differing: number } {
  if (actual.length !== expected.length) {
    throw new Error(`arrays differ in length: ${actual.length} vs ${expected.length}`);
  }
  let maxError = 0;
  let differing = 0;
  for (let i = 0; i < actual.length; i++) {
    const error = Math.abs(actual[i] - expected[i]);
    if (error > 0) differing++;
    if (error > maxError) maxError = error;
  }
  return { maxError, differing };
}
