import { createHash } from "node:crypto";

/** One array entry of a fixture's refs.json. */
export interface ReferenceArray {
  file: string;
  dtype: string;
  shape: number[];
  sha256: string;
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

/** Returns the largest absolute element difference. */
export function maxAbsoluteError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  return compareArrays(actual, expected).maxError;
}
