import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

import type { ReferenceArray } from "../../test-support/reference-arrays";

export { compareArrays, maxAbsoluteError, sha256Hex } from "../../test-support/reference-arrays";
export type { ReferenceArray };

/** Test fixtures of the image processor: photos and transformers 4.40.2 reference arrays. */
export const FIXTURE_DIR = fileURLToPath(new URL("../../../test-fixtures/image/", import.meta.url));

/** Returns the absolute path of a file under test-fixtures/image/. */
export function fixturePath(name: string): string {
  return FIXTURE_DIR + name;
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
