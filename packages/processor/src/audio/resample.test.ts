import { performance } from "node:perf_hooks";

import { InputError } from "@mm/core";
import { describe, expect, it } from "vitest";

import { resample, resampleAudio } from "./resample";

function sine(frequency: number, rate: number, seconds: number, amplitude: number): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, n) => amplitude * Math.sin((2 * Math.PI * frequency * n) / rate));
}

/** Root mean square of samples[start, end). */
function rms(samples: Float32Array, start = 0, end = samples.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / (end - start));
}

/**
 * Returns the largest difference from the ideal sine at the output rate, away from the first and
 * last `margin` samples, whose filter windows reach the zeros beyond the input.
 */
function maxErrorFromSine(output: Float32Array, frequency: number, rate: number, amplitude: number, margin: number): number {
  let maxError = 0;
  for (let n = margin; n < output.length - margin; n++) {
    maxError = Math.max(maxError, Math.abs(output[n] - amplitude * Math.sin((2 * Math.PI * frequency * n) / rate)));
  }
  return maxError;
}

describe("resample a pure sine", () => {
  const cases = [
    { from: 8000, to: 16000, frequency: 440 },
    { from: 8000, to: 16000, frequency: 3000 },
    { from: 44100, to: 16000, frequency: 1000 },
    { from: 48000, to: 16000, frequency: 6000 },
    { from: 22050, to: 16000, frequency: 250 },
    { from: 16000, to: 44100, frequency: 5000 },
  ];

  it.each(cases)("$from Hz to $to Hz keeps a $frequency Hz tone", ({ from, to, frequency }) => {
    const amplitude = 0.5;
    const output = resample(sine(frequency, from, 1, amplitude), from, to);

    expect(output.length).toBe(to);
    // The ideal output is the same sine sampled at the new rate: a wrong frequency or phase fails too.
    expect(maxErrorFromSine(output, frequency, to, amplitude, 200)).toBeLessThan(0.01 * amplitude);
    expect(rms(output, 200, to - 200) / (amplitude / Math.SQRT2)).toBeCloseTo(1, 2);
  });

  it("removes a tone above the new Nyquist frequency instead of aliasing it", () => {
    // 10 kHz is above 16 kHz's Nyquist frequency (8 kHz); aliasing would put it at 6 kHz.
    const output = resample(sine(10000, 48000, 1, 0.5), 48000, 16000);

    expect(rms(output, 200, output.length - 200)).toBeLessThan(1e-4);
  });

  it("keeps a constant level (DC gain 1)", () => {
    const output = resample(new Float32Array(8000).fill(0.25), 8000, 16000);

    expect(Math.abs(output[8000] - 0.25)).toBeLessThan(1e-6);
  });
});

describe("resample lengths and rates", () => {
  it("returns ceil(length * to / from) samples", () => {
    expect(resample(new Float32Array(1001), 44100, 16000).length).toBe(Math.ceil((1001 * 16000) / 44100));
    expect(resample(new Float32Array(3), 8000, 16000).length).toBe(6);
    expect(resample(new Float32Array(0), 8000, 16000).length).toBe(0);
  });

  it("copies the samples when the rates are equal", () => {
    const samples = new Float32Array([1, 2, 3]);
    const output = resample(samples, 16000, 16000);

    expect(Array.from(output)).toEqual([1, 2, 3]);
    expect(output).not.toBe(samples);
  });

  it("rejects a rate that is not a positive integer", () => {
    expect(() => resample(new Float32Array(4), 8000.5, 16000)).toThrow(InputError);
    expect(() => resample(new Float32Array(4), 8000.5, 16000)).toThrow(/the source rate is 8000.5; round it to whole Hz/);
    expect(() => resample(new Float32Array(4), 8000, 0)).toThrow(/the target rate is 0/);
  });

  it("handles coprime rates whose phase table is not kept", () => {
    // 48001 and 16000 are coprime: 16000 phases of 388 taps exceed the 2^22-entry table.
    const output = resample(sine(440, 48001, 0.25, 0.5), 48001, 16000);

    expect(maxErrorFromSine(output, 440, 16000, 0.5, 200)).toBeLessThan(0.005);
  });

  it("resampleAudio returns the same object at the target rate", () => {
    const audio = { samples: new Float32Array(4), sampleRate: 16000 };

    expect(resampleAudio(audio, 16000)).toBe(audio);
    expect(resampleAudio({ samples: new Float32Array(4), sampleRate: 8000 }, 16000).sampleRate).toBe(16000);
  });
});

describe("resample speed", () => {
  it("upsamples 4 s of 8 kHz under 100 ms", () => {
    const input = sine(440, 8000, 4, 0.5);
    resample(input, 8000, 16000);

    // The fastest of three runs after a warm-up, so that other processes on the machine add less noise.
    const elapsed = Math.min(
      ...[0, 1, 2].map(() => {
        const start = performance.now();
        resample(input, 8000, 16000);
        return performance.now() - start;
      }),
    );

    expect(elapsed).toBeLessThan(100);
  });
});
