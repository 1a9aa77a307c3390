// Shape letters: B batch, P rows of position ids (1 or B), T sequence, H heads, D head dim.
import * as tf from "@tensorflow/tfjs";
import type { RopeScaling } from "./decoder-settings";

/**
 * Computes the inverse frequencies of rotary position embedding, 1 / theta^(2i / D) for i < D / 2,
 * rounded to float32 at each step as transformers computes them. `llama3` scaling changes them
 * here, while linear scaling divides the positions instead (see rotaryTables).
 */
export function inverseFrequencies(headDim: number, theta: number, scaling?: RopeScaling): Float32Array {
  const frequencies = new Float32Array(headDim / 2);
  for (let i = 0; i < frequencies.length; i++) {
    const exponent = Math.fround((2 * i) / headDim);
    frequencies[i] = 1 / Math.fround(Math.pow(theta, exponent));
  }
  return scaling?.ropeType === "llama3" ? llama3Frequencies(frequencies, scaling) : frequencies;
}

/**
 * Applies Llama 3.1's frequency-dependent scaling (transformers' `_compute_llama3_parameters`).
 * Wavelengths shorter than original_max_position_embeddings / high_freq_factor keep their
 * frequency, and those longer than original_max_position_embeddings / low_freq_factor are divided
 * by `factor`. The band between interpolates smoothly.
 * NOTE: no transformers reference output checks this path, only the rule above in a unit test.
 */
function llama3Frequencies(frequencies: Float32Array, scaling: Extract<RopeScaling, { ropeType: "llama3" }>): Float32Array {
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: context } = scaling;
  const lowFrequencyWavelength = context / lowFreqFactor;
  const highFrequencyWavelength = context / highFreqFactor;
  return frequencies.map((frequency) => {
    const wavelength = (2 * Math.PI) / frequency;
    if (wavelength < highFrequencyWavelength) return frequency;
    if (wavelength > lowFrequencyWavelength) return frequency / factor;
    const smooth = (context / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return ((1 - smooth) * frequency) / factor + smooth * frequency;
  });
}

/**
 * Computes cos and sin of position · frequency, each [P, 1, T, D] so they broadcast over heads. Each
 * frequency appears twice (first and second half of D), as in transformers' cat((freqs, freqs)).
 * positions: P rows of T position ids, row-major. The angles are rounded to float32 as transformers
 * computes them (in float32 even for half-precision models), and cos/sin are taken in double, then
 * rounded to float32.
 */
export function rotaryTables(
  positions: ArrayLike<number>,
  rows: number,
  length: number,
  frequencies: Float32Array,
  scaling?: RopeScaling,
): { cos: tf.Tensor; sin: tf.Tensor } {
  const half = frequencies.length;
  const headDim = 2 * half;
  const divisor = scaling?.ropeType === "linear" ? Math.fround(scaling.factor) : 1;
  const cos = new Float32Array(rows * length * headDim);
  const sin = new Float32Array(rows * length * headDim);
  for (let p = 0; p < rows * length; p++) {
    const position = Math.fround(positions[p] / divisor);
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(frequencies[i] * position);
      const offset = p * headDim + i;
      cos[offset] = cos[offset + half] = Math.cos(angle);
      sin[offset] = sin[offset + half] = Math.sin(angle);
    }
  }
  const shape = [rows, 1, length, headDim];
  return { cos: tf.tensor4d(cos, shape as [number, number, number, number]), sin: tf.tensor4d(sin, shape as [number, number, number, number]) };
}

/**
 * Rotates query or key vectors by their positions in transformers' rotate_half convention:
 * x·cos + rotate_half(x)·sin, where rotate_half([x1, x2]) = [-x2, x1] over the two halves of D.
 * x: [B, H, T, D]; cos, sin: [P, 1, T, D] with P equal to 1 or B. Returns [B, H, T, D].
 */
export function applyRotary(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [first, second] = tf.split(x, 2, -1); // two [B, H, T, D/2]
    const rotated = tf.concat([tf.neg(second), first], -1); // [B, H, T, D]
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
  });
}
