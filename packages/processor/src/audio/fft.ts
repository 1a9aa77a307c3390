/**
 * A mixed-radix complex FFT of any length (decimation in time, Cooley-Tukey). Radices 4 and 2 have
 * their own butterflies. Radices 3, 5 and any remaining prime factor p use an O(p^2) butterfly, so
 * lengths with large prime factors are slower but still exact. Computes
 * X[k] = sum_n x[n] exp(-2 pi i n k / N) in float64.
 */
export class FFT {
  readonly size: number;
  private readonly stages: Stage[];
  /** Input index of each output slot before the first butterfly: the mixed-radix digit reversal. */
  private readonly permutation: Int32Array;
  private readonly scratchRe: Float64Array;
  private readonly scratchIm: Float64Array;
  private outRe: Float64Array = new Float64Array(0);
  private outIm: Float64Array = new Float64Array(0);

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`FFT size must be a positive integer, got ${size}`);
    this.size = size;
    this.stages = planStages(size);
    this.permutation = digitReversal(size, this.stages);
    const largestRadix = Math.max(1, ...this.stages.map((stage) => stage.radix));
    this.scratchRe = new Float64Array(largestRadix);
    this.scratchIm = new Float64Array(largestRadix);
  }

  /** Writes the DFT of (inRe, inIm), each `[size]`, into (outRe, outIm), which must not alias the input. */
  transform(inRe: ArrayLike<number>, inIm: ArrayLike<number>, outRe: Float64Array, outIm: Float64Array): void {
    for (let i = 0; i < this.size; i++) {
      outRe[i] = inRe[this.permutation[i]];
      outIm[i] = inIm[this.permutation[i]];
    }
    this.outRe = outRe;
    this.outIm = outIm;
    // The innermost (shortest) sub-transforms come first. Each stage combines `radix` neighbouring blocks of m.
    for (let index = this.stages.length - 1; index >= 0; index--) {
      const stage = this.stages[index];
      for (let offset = 0; offset < this.size; offset += stage.radix * stage.m) {
        this.twiddle(offset, stage);
        if (stage.radix === 4) this.radix4(offset, stage.m);
        else if (stage.radix === 2) this.radix2(offset, stage.m);
        else this.radixGeneric(offset, stage);
      }
    }
  }

  /** Multiplies element k of sub-transform r by W_n^(r k), n = radix * m. */
  private twiddle(offset: number, stage: Stage): void {
    const { outRe, outIm } = this;
    const { twiddleRe, twiddleIm } = stage;
    for (let index = stage.m; index < twiddleRe.length; index++) {
      const re = outRe[offset + index];
      const im = outIm[offset + index];
      outRe[offset + index] = re * twiddleRe[index] - im * twiddleIm[index];
      outIm[offset + index] = re * twiddleIm[index] + im * twiddleRe[index];
    }
  }

  private radix2(offset: number, m: number): void {
    const { outRe, outIm } = this;
    for (let k = offset; k < offset + m; k++) {
      const re0 = outRe[k];
      const im0 = outIm[k];
      const re1 = outRe[k + m];
      const im1 = outIm[k + m];
      outRe[k] = re0 + re1;
      outIm[k] = im0 + im1;
      outRe[k + m] = re0 - re1;
      outIm[k + m] = im0 - im1;
    }
  }

  /** Applies the length-4 DFT, X_q = sum_r a_r (-i)^(r q), to each k. */
  private radix4(offset: number, m: number): void {
    const { outRe, outIm } = this;
    for (let k = offset; k < offset + m; k++) {
      const k1 = k + m;
      const k2 = k + 2 * m;
      const k3 = k + 3 * m;
      const sum02Re = outRe[k] + outRe[k2];
      const sum02Im = outIm[k] + outIm[k2];
      const diff02Re = outRe[k] - outRe[k2];
      const diff02Im = outIm[k] - outIm[k2];
      const sum13Re = outRe[k1] + outRe[k3];
      const sum13Im = outIm[k1] + outIm[k3];
      const diff13Re = outRe[k1] - outRe[k3];
      const diff13Im = outIm[k1] - outIm[k3];
      outRe[k] = sum02Re + sum13Re;
      outIm[k] = sum02Im + sum13Im;
      // -i * (a1 - a3) = (diff13Im, -diff13Re)
      outRe[k1] = diff02Re + diff13Im;
      outIm[k1] = diff02Im - diff13Re;
      outRe[k2] = sum02Re - sum13Re;
      outIm[k2] = sum02Im - sum13Im;
      outRe[k3] = diff02Re - diff13Im;
      outIm[k3] = diff02Im + diff13Re;
    }
  }

  /** Applies the length-radix DFT, X_q = sum_r a_r W_radix^(r q), with the stage's precomputed matrix. */
  private radixGeneric(offset: number, stage: Stage): void {
    const { outRe, outIm, scratchRe, scratchIm } = this;
    const { radix, m, matrixRe, matrixIm } = stage;
    for (let k = offset; k < offset + m; k++) {
      for (let r = 0; r < radix; r++) {
        scratchRe[r] = outRe[k + r * m];
        scratchIm[r] = outIm[k + r * m];
      }
      for (let q = 0; q < radix; q++) {
        let sumRe = 0;
        let sumIm = 0;
        for (let r = 0; r < radix; r++) {
          const w = q * radix + r;
          sumRe += scratchRe[r] * matrixRe[w] - scratchIm[r] * matrixIm[w];
          sumIm += scratchRe[r] * matrixIm[w] + scratchIm[r] * matrixRe[w];
        }
        outRe[k + q * m] = sumRe;
        outIm[k + q * m] = sumIm;
      }
    }
  }
}

/** One radix step: `radix` sub-transforms of length m combined into one of length radix * m. */
interface Stage {
  radix: number;
  m: number;
  /** W_n^(r k) at index r * m + k, n = radix * m. */
  twiddleRe: Float64Array;
  twiddleIm: Float64Array;
  /** W_radix^(r q) at index q * radix + r, for the generic butterfly. */
  matrixRe: Float64Array;
  matrixIm: Float64Array;
}

/**
 * Stage s splits its input into `radix` subsequences of stride (product of the earlier radices), and
 * puts sub-transform r at offset r * m. Unrolled, input index sum_s r_s * stride_s lands at output
 * slot sum_s r_s * m_s.
 */
function digitReversal(size: number, stages: Stage[]): Int32Array {
  const permutation = new Int32Array(size);
  let slots = [0];
  let inputs = [0];
  let stride = 1;
  for (const { radix, m } of stages) {
    const nextSlots: number[] = [];
    const nextInputs: number[] = [];
    for (let r = 0; r < radix; r++) {
      slots.forEach((slot, i) => {
        nextSlots.push(slot + r * m);
        nextInputs.push(inputs[i] + r * stride);
      });
    }
    [slots, inputs, stride] = [nextSlots, nextInputs, stride * radix];
  }
  slots.forEach((slot, i) => (permutation[slot] = inputs[i]));
  return permutation;
}

/** Plans the stages from the full length down. Stage i combines the sub-transforms of stage i + 1. */
function planStages(size: number): Stage[] {
  const stages: Stage[] = [];
  let length = size;
  for (const radix of factorize(size)) {
    const m = length / radix;
    const twiddleRe = new Float64Array(length);
    const twiddleIm = new Float64Array(length);
    for (let r = 0; r < radix; r++) {
      for (let k = 0; k < m; k++) {
        const angle = (-2 * Math.PI * ((r * k) % length)) / length;
        twiddleRe[r * m + k] = Math.cos(angle);
        twiddleIm[r * m + k] = Math.sin(angle);
      }
    }
    stages.push({ radix, m, twiddleRe, twiddleIm, ...dftMatrix(radix) });
    length = m;
  }
  return stages;
}

function dftMatrix(radix: number): { matrixRe: Float64Array; matrixIm: Float64Array } {
  const matrixRe = new Float64Array(radix * radix);
  const matrixIm = new Float64Array(radix * radix);
  for (let q = 0; q < radix; q++) {
    for (let r = 0; r < radix; r++) {
      const angle = (-2 * Math.PI * ((r * q) % radix)) / radix;
      matrixRe[q * radix + r] = Math.cos(angle);
      matrixIm[q * radix + r] = Math.sin(angle);
    }
  }
  return { matrixRe, matrixIm };
}

/** Splits n into radices: 4s first, then 2, 3, 5 and any remaining primes in increasing order. */
function factorize(n: number): number[] {
  const factors: number[] = [];
  let rest = n;
  for (const radix of [4, 2, 3, 5]) {
    while (rest % radix === 0) {
      factors.push(radix);
      rest /= radix;
    }
  }
  for (let prime = 7; rest > 1; prime += 2) {
    while (rest % prime === 0) {
      factors.push(prime);
      rest /= prime;
    }
    if (prime * prime > rest && rest > 1) {
      factors.push(rest);
      rest = 1;
    }
  }
  return factors;
}
