import { describe, expect, it } from "vitest";

import { FFT } from "./fft";

/** Direct O(N^2) DFT in float64: X[k] = sum_n x[n] exp(-2 pi i n k / N). */
function directDft(re: Float64Array, im: Float64Array): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let t = 0; t < n; t++) {
      const angle = (-2 * Math.PI * ((k * t) % n)) / n;
      outRe[k] += re[t] * Math.cos(angle) - im[t] * Math.sin(angle);
      outIm[k] += re[t] * Math.sin(angle) + im[t] * Math.cos(angle);
    }
  }
  return { re: outRe, im: outIm };
}

function randomSignal(length: number, seed: number): Float64Array {
  let state = seed;
  return Float64Array.from({ length }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 1073741824 - 1;
  });
}

describe("FFT", () => {
  it.each([1, 2, 3, 4, 5, 8, 12, 30, 49, 97, 400, 512])("matches the direct DFT for length %i", (length) => {
    const inRe = randomSignal(length, length);
    const inIm = randomSignal(length, length + 1000);
    const outRe = new Float64Array(length);
    const outIm = new Float64Array(length);

    new FFT(length).transform(inRe, inIm, outRe, outIm);

    const expected = directDft(inRe, inIm);
    for (let k = 0; k < length; k++) {
      expect(Math.abs(outRe[k] - expected.re[k])).toBeLessThan(1e-11);
      expect(Math.abs(outIm[k] - expected.im[k])).toBeLessThan(1e-11);
    }
  });

  it("puts a cosine of bin 7 into bins 7 and N - 7", () => {
    const length = 400;
    const inRe = Float64Array.from({ length }, (_, t) => Math.cos((2 * Math.PI * 7 * t) / length));
    const outRe = new Float64Array(length);
    const outIm = new Float64Array(length);

    new FFT(length).transform(inRe, new Float64Array(length), outRe, outIm);

    expect(outRe[7]).toBeCloseTo(200, 10);
    expect(outRe[393]).toBeCloseTo(200, 10);
    const elsewhere = Array.from(outRe).filter((_, k) => k !== 7 && k !== 393);
    expect(Math.max(...elsewhere.map(Math.abs))).toBeLessThan(1e-10);
  });

  it("rejects a length of 0", () => {
    expect(() => new FFT(0)).toThrow(/FFT size must be a positive integer, got 0/);
  });
});
