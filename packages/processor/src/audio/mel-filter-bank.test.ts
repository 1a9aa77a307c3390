import { describe, expect, it } from "vitest";

import { hertzToMelSlaney, melFilterBank, melToHertzSlaney } from "./mel-filter-bank";
import { maxAbsoluteError, readFloat64Reference, readWhisperReferences } from "./test-support/fixtures";

describe("melFilterBank", () => {
  it("matches transformers' Whisper mel filters", () => {
    const reference = readWhisperReferences().outputs.mel_filters;
    const expected = readFloat64Reference(reference.file);

    const filters = melFilterBank({ numFrequencyBins: 201, numMelFilters: 80, minFrequency: 0, maxFrequency: 8000, samplingRate: 16000 });

    expect(reference.shape).toEqual([201, 80]);
    expect(filters.length).toBe(expected.length);
    const maxError = maxAbsoluteError(filters, expected);
    expect(maxError).toBeLessThan(1e-6);
  });

  it("has 128 non-empty filters for large-v3's feature_size", () => {
    const filters = melFilterBank({ numFrequencyBins: 201, numMelFilters: 128, minFrequency: 0, maxFrequency: 8000, samplingRate: 16000 });

    for (let mel = 0; mel < 128; mel++) {
      let weight = 0;
      for (let bin = 0; bin < 201; bin++) weight += filters[bin * 128 + mel];
      expect(weight, `filter ${mel}`).toBeGreaterThan(0);
    }
  });
});

describe("Slaney mel scale", () => {
  it("is linear below 1 kHz and logarithmic above", () => {
    expect(hertzToMelSlaney(200)).toBeCloseTo(3, 12);
    expect(hertzToMelSlaney(1000)).toBeCloseTo(15, 12);
    expect(hertzToMelSlaney(6400)).toBeCloseTo(15 + 27, 12);
  });

  it("round-trips through melToHertzSlaney", () => {
    for (const hertz of [0, 440, 999, 1000, 4000, 8000]) expect(melToHertzSlaney(hertzToMelSlaney(hertz))).toBeCloseTo(hertz, 9);
  });
});
