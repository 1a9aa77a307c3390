import { describe, expect, it } from "vitest";
import { ConfigError, SeededRandom, setLogSink } from "@mm/core";
import { resolveGenerationOptions, type GenerationOptions } from "./generation-options";
import { applyRepetitionPenalty, applyTemperature, applyTopK, applyTopP } from "./logits-processors";
import { argmax, processScores, sampleFromScores } from "./sampling";

const NEG = -Infinity;

/** Logits whose softmax is exactly proportional to `probabilities`. */
function logitsOf(probabilities: number[]): Float32Array {
  return Float32Array.from(probabilities, Math.log);
}

/** Fraction of `draws` samples that hit each id. */
function frequencies(scores: Float32Array, draws: number, seed: number): number[] {
  const random = new SeededRandom(seed);
  const counts = new Array<number>(scores.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampleFromScores(scores, random)]++;
  return counts.map((count) => count / draws);
}

describe("applyRepetitionPenalty", () => {
  it("divides positive and multiplies negative present scores", () => {
    const scores = Float32Array.from([2, -2, 1, -1]);
    applyRepetitionPenalty(scores, Uint8Array.from([1, 1, 0, 0]), 2);
    expect(Array.from(scores)).toEqual([1, -4, 1, -1]);
  });

  it("with a penalty below 1 favours present ids", () => {
    const scores = Float32Array.from([2, -2]);
    applyRepetitionPenalty(scores, Uint8Array.from([1, 1]), 0.5);
    expect(Array.from(scores)).toEqual([4, -1]);
  });
});

describe("applyTemperature", () => {
  it("divides every score", () => {
    const scores = Float32Array.from([2, -1, 0]);
    applyTemperature(scores, 0.5);
    expect(Array.from(scores)).toEqual([4, -2, 0]);
  });
});

describe("applyTopK", () => {
  it("keeps the k largest", () => {
    const scores = Float32Array.from([1, 3, 2, 0]);
    applyTopK(scores, 2);
    expect(Array.from(scores)).toEqual([NEG, 3, 2, NEG]);
  });

  it("keeps every score tied with the k-th", () => {
    const scores = Float32Array.from([1, 2, 2, 0]);
    applyTopK(scores, 1);
    expect(Array.from(scores)).toEqual([NEG, 2, 2, NEG]);
  });

  it("changes nothing for k = 0 or k >= V", () => {
    for (const k of [0, 4, 9]) {
      const scores = Float32Array.from([1, 3, 2, 0]);
      applyTopK(scores, k);
      expect(Array.from(scores), `k ${k}`).toEqual([1, 3, 2, 0]);
    }
  });

  it("never samples outside the top two", () => {
    const scores = Float32Array.from([1, 3, 2.5, 0, 2.9]);
    applyTopK(scores, 2);
    const seen = frequencies(scores, 2000, 3);
    expect(seen[0] + seen[2] + seen[3]).toBe(0);
    expect(seen[1]).toBeGreaterThan(0);
    expect(seen[4]).toBeGreaterThan(0);
  });
});

describe("applyTopP", () => {
  // Probabilities by id: 0.15, 0.5, 0.05, 0.3; ranked: id 1 (0.5), id 3 (0.3), id 0 (0.15), id 2.
  const probabilities = [0.15, 0.5, 0.05, 0.3];

  it("keeps the token that crosses p", () => {
    const scores = logitsOf(probabilities);
    applyTopP(scores, 0.7); // 0.5 < 0.7 <= 0.5 + 0.3
    expect(Array.from(scores, Number.isFinite)).toEqual([false, true, false, true]);
  });

  it("keeps the top token alone when it reaches p", () => {
    const scores = logitsOf(probabilities);
    applyTopP(scores, 0.45);
    expect(Array.from(scores, Number.isFinite)).toEqual([false, true, false, false]);
  });

  it("keeps three tokens for p just above 0.8", () => {
    const scores = logitsOf(probabilities);
    applyTopP(scores, 0.81);
    expect(Array.from(scores, Number.isFinite)).toEqual([true, true, false, true]);
  });

  it("changes nothing for p = 1 and leaves kept scores as they were", () => {
    const scores = logitsOf(probabilities);
    applyTopP(scores, 1);
    expect(Array.from(scores)).toEqual(Array.from(logitsOf(probabilities)));
    const filtered = logitsOf(probabilities);
    applyTopP(filtered, 0.7);
    expect(filtered[1]).toBe(Math.fround(Math.log(0.5)));
  });

  it("ignores tokens already filtered by top-k", () => {
    const scores = logitsOf(probabilities);
    applyTopK(scores, 2); // ids 1 and 3 remain: renormalised 0.625 and 0.375
    applyTopP(scores, 0.6);
    expect(Array.from(scores, Number.isFinite)).toEqual([false, true, false, false]);
  });
});

describe("sampleFromScores", () => {
  it("draws with softmax probabilities", () => {
    const seen = frequencies(logitsOf([0.25, 0.75]), 4000, 11);
    expect(Math.abs(seen[1] - 0.75)).toBeLessThan(0.03);
  });

  it("flattens the distribution at temperature 2", () => {
    const scores = logitsOf([0.25, 0.75]);
    applyTemperature(scores, 2); // probabilities proportional to sqrt: 1 and sqrt(3)
    const seen = frequencies(scores, 4000, 12);
    expect(Math.abs(seen[1] - Math.sqrt(3) / (1 + Math.sqrt(3)))).toBeLessThan(0.03);
  });

  it("repeats its draws for a seed", () => {
    const scores = logitsOf([0.2, 0.2, 0.2, 0.2, 0.2]);
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 20 }, () => sampleFromScores(scores, random));
    };
    expect(draw(5)).toEqual(draw(5));
    expect(new Set(draw(5)).size).toBeGreaterThan(1);
  });
});

describe("argmax", () => {
  it("returns the lowest id among ties", () => {
    expect(argmax(Float32Array.from([1, 4, 4, 2]))).toBe(1);
  });
});

describe("processScores", () => {
  const base: GenerationOptions = { max_new_tokens: 1 };

  it("greedy applies only the repetition penalty", () => {
    const options = resolveGenerationOptions({ ...base, repetition_penalty: 2, top_k: 1 }, {}, 4);
    const scores = processScores(Float32Array.from([4, -1, 3, 0]), Uint8Array.from([1, 0, 0, 0]), options);
    expect(Array.from(scores)).toEqual([2, -1, 3, 0]);
  });

  it("sampling applies penalty, temperature, top-k and top-p in that order", () => {
    const options = resolveGenerationOptions({ ...base, do_sample: true, repetition_penalty: 2, temperature: 0.5, top_k: 3, top_p: 0.99 }, {}, 4);
    const logits = Float32Array.from([4, -1, 3, 0]);
    const scores = processScores(logits, Uint8Array.from([1, 0, 0, 0]), options);
    // penalty: [2, -1, 3, 0]; temperature: [4, -2, 6, 0]; top-k 3 drops id 1; top-p 0.99 drops
    // id 3, whose probability e^0 / (e^4 + e^6 + e^0) is below 0.01.
    expect(Array.from(scores)).toEqual([4, NEG, 6, NEG]);
    expect(Array.from(logits)).toEqual([4, -1, 3, 0]);
  });
});

describe("resolveGenerationOptions", () => {
  const base: GenerationOptions = { max_new_tokens: 4 };

  it("takes eos and pad ids from config.json", () => {
    const fromConfig = resolveGenerationOptions(base, { eos_token_id: [2, 7], pad_token_id: null }, 10);
    expect([...fromConfig.eosTokenIds]).toEqual([2, 7]);
    expect(fromConfig.padTokenId).toBe(2);
    const overridden = resolveGenerationOptions({ ...base, eos_token_id: null, pad_token_id: 5 }, { eos_token_id: 2, pad_token_id: 0 }, 10);
    expect(overridden.eosTokenIds.size).toBe(0);
    expect(overridden.padTokenId).toBe(5);
  });

  it("uses transformers' defaults", () => {
    const options = resolveGenerationOptions(base, {}, 10);
    expect(options).toMatchObject({ doSample: false, temperature: 1, topK: 50, topP: 1, repetitionPenalty: 1 });
  });

  it("rejects values out of range", () => {
    expect(() => resolveGenerationOptions({ ...base, temperature: 0 }, {}, 10)).toThrow(/temperature must be a finite number > 0, got 0/);
    expect(() => resolveGenerationOptions({ ...base, top_p: 1.5 }, {}, 10)).toThrow(/top_p must be in \(0, 1\], got 1.5/);
    expect(() => resolveGenerationOptions({ ...base, top_k: -1 }, {}, 10)).toThrow(/top_k must be an integer >= 0, got -1/);
    expect(() => resolveGenerationOptions({ max_new_tokens: 0 }, {}, 10)).toThrow(/max_new_tokens must be an integer >= 1, got 0/);
    expect(() => resolveGenerationOptions({ ...base, eos_token_id: 10 }, {}, 10)).toThrow(ConfigError);
    expect(() => resolveGenerationOptions({ ...base, pad_token_id: -1 }, {}, 10)).toThrow(/pad_token_id -1 is not a token id of this model's vocabulary of 10/);
  });

  it("warns when greedy decoding ignores sampling keys", () => {
    const lines: string[] = [];
    const previous = setLogSink((_level, _scope, message) => lines.push(message));
    try {
      resolveGenerationOptions({ ...base, temperature: 0.7, top_p: 0.9 }, {}, 10);
    } finally {
      setLogSink(previous);
    }
    expect(lines).toEqual(["do_sample is false, so generation is greedy and ignores temperature, top_p"]);
  });
});
