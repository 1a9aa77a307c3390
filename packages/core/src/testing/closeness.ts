import * as tf from "@tensorflow/tfjs";

type Values = tf.Tensor | Float32Array | Int32Array | number[];

function toArray(values: Values): Float32Array {
  if (values instanceof tf.Tensor) return Float32Array.from(values.dataSync());
  return Float32Array.from(values);
}

/** max |actual - expected| / max |expected|, the relative error used by the parity tests. */
export function relativeError(actual: Values, expected: Values): number {
  const a = toArray(actual);
  const e = toArray(expected);
  if (a.length !== e.length) throw new Error(`cannot compare ${a.length} values with ${e.length} expected values`);
  let maxDifference = 0;
  let maxExpected = 0;
  for (let i = 0; i < a.length; i++) {
    const difference = Math.abs(a[i] - e[i]);
    maxDifference = Number.isNaN(difference) ? Infinity : Math.max(maxDifference, difference);
    maxExpected = Math.max(maxExpected, Math.abs(e[i]));
  }
  return maxExpected === 0 ? maxDifference : maxDifference / maxExpected;
}

/** Throws when the relative error (see relativeError) exceeds `tolerance`; returns the error. */
export function assertClose(actual: Values, expected: Values, tolerance = 1e-4, label = "values"): number {
  const error = relativeError(actual, expected);
  if (!(error <= tolerance)) throw new Error(`${label}: relative error ${error.toExponential(3)} exceeds ${tolerance}`);
  return error;
}
