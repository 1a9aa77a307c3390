import * as tf from "@tensorflow/tfjs";

/**
 * Deterministic random numbers (mulberry32) so that weight initialisation, shuffling and
 * sampling repeat exactly for a given seed. The state is one 32-bit integer, which checkpoints
 * store to resume a run.
 */
export class SeededRandom {
  private state: number;
  private spareNormal: number | undefined;

  constructor(seed = 0) {
    this.state = seed >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal sample (Box-Muller, second value cached). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const value = this.spareNormal;
      this.spareNormal = undefined;
      return value;
    }
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  getState(): { state: number; spareNormal: number | null } {
    return { state: this.state, spareNormal: this.spareNormal ?? null };
  }

  setState(saved: { state: number; spareNormal: number | null }): void {
    this.state = saved.state >>> 0;
    this.spareNormal = saved.spareNormal ?? undefined;
  }
}

/** The generator that module initialisers draw from; `manualSeed` resets it. */
export const globalRandom = new SeededRandom(0);

export function manualSeed(seed: number): void {
  globalRandom.setState({ state: seed, spareNormal: null });
}

/** Float32 tensor of `shape` with entries drawn from N(0, std²) by `globalRandom`. */
export function randomNormalTensor(shape: number[], std: number, random: SeededRandom = globalRandom): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = random.normal() * std;
  return tf.tensor(values, shape, "float32");
}
