import { ConfigError, InputError } from "@mm/core";
import { describe, expect, it } from "vitest";

import { loadAudio } from "./load-audio";
import { resampleAudio } from "./resample";
import { fixturePath, maxAbsoluteError, readFloat32Reference, readFloat64Reference, readWhisperReferences } from "./test-support/fixtures";
import { WhisperFeatureExtractor, loadWhisperFeatureExtractor } from "./whisper-feature-extractor";

const WHISPER_CONFIG = fixturePath("whisper/preprocessor_config.json");

describe("WhisperFeatureExtractor parity with transformers 4.40.2", () => {
  const references = readWhisperReferences().outputs;

  it("builds transformers' mel filters", async () => {
    const extractor = await loadWhisperFeatureExtractor(WHISPER_CONFIG);

    expect(maxAbsoluteError(extractor.melFilters, readFloat64Reference(references.mel_filters.file))).toBeLessThan(1e-6);
  });

  it("matches input_features of the numpy and torch paths", async () => {
    const extractor = await loadWhisperFeatureExtractor(WHISPER_CONFIG);
    const audio = await loadAudio(fixturePath("whisper/speech_16k.wav"));

    const batch = extractor.extract([audio.samples], audio.sampleRate);

    expect(batch.shape).toEqual(references.input_features.shape);
    expect(batch.input_features.length).toBe(80 * 3000);
    expect(maxAbsoluteError(batch.input_features, readFloat32Reference("input_features_numpy_path.f32.bin.gz"))).toBeLessThan(1e-5);
    expect(maxAbsoluteError(batch.input_features, readFloat32Reference("input_features.f32.bin.gz"))).toBeLessThan(1e-4);
  });

  it("process loads the file and gives the same features", async () => {
    const extractor = await loadWhisperFeatureExtractor(fixturePath("whisper"));

    const batch = await extractor.process([fixturePath("whisper/speech_16k.wav")]);

    expect(maxAbsoluteError(batch.input_features, readFloat32Reference("input_features.f32.bin.gz"))).toBeLessThan(1e-4);
  });
});

describe("WhisperFeatureExtractor on 8 kHz speech", () => {
  it("loads, resamples and extracts a real recording", async () => {
    const extractor = new WhisperFeatureExtractor();
    const audio = await loadAudio(fixturePath("vm-login.wav"));
    const resampled = resampleAudio(audio, 16000);

    const batch = extractor.extract([resampled.samples], resampled.sampleRate);

    expect(audio.sampleRate).toBe(8000);
    expect(resampled.samples.length).toBe(2 * audio.samples.length);
    expect(batch.shape).toEqual([1, 80, 3000]);
    expect(batch.input_features.every(Number.isFinite)).toBe(true);
    // 2.5 s of speech fill frames 0-253 (hop 10 ms); frames from 300 on are zero padding.
    const speechFrames = Math.floor(resampled.samples.length / 160);
    expect(meanEnergy(batch.input_features, 0, speechFrames)).toBeGreaterThan(meanEnergy(batch.input_features, speechFrames + 50, 3000) + 0.5);
  });

  it("process batches two clips of different lengths", async () => {
    const extractor = new WhisperFeatureExtractor();
    const files = [fixturePath("vm-login.wav"), fixturePath("call-waiting.wav")];

    const batch = await extractor.process(files);
    const single = await extractor.process([files[1]]);

    expect(batch.shape).toEqual([2, 80, 3000]);
    expect(maxAbsoluteError(batch.input_features.subarray(80 * 3000), single.input_features)).toBe(0);
  });
});

/** Mean of the features over frames [start, end) and every mel bin of clip 0. */
function meanEnergy(features: Float32Array, start: number, end: number): number {
  let sum = 0;
  for (let mel = 0; mel < 80; mel++) {
    for (let frame = start; frame < end; frame++) sum += features[mel * 3000 + frame];
  }
  return sum / (80 * (end - start));
}

describe("WhisperFeatureExtractor padding and truncation", () => {
  it("gives silence the floor value everywhere", () => {
    const batch = new WhisperFeatureExtractor().extract([new Float32Array(16000)]);

    // log10(1e-10) = -10 everywhere, so max - 8 does not bind: (-10 + 4) / 4 = -1.5.
    expect(batch.input_features.every((value) => value === -1.5)).toBe(true);
  });

  it("uses only the first 30 s of a longer clip", () => {
    const extractor = new WhisperFeatureExtractor();
    const clip = Float32Array.from({ length: 16000 * 31 }, (_, n) => Math.sin(n / 7) * (n < 16000 * 30 ? 0.1 : 0.9));

    const long = extractor.extract([clip]).input_features;
    const cut = extractor.extract([clip.subarray(0, 16000 * 30)]).input_features;

    expect(maxAbsoluteError(long, cut)).toBe(0);
  });

  it("supports 128 mel bins", () => {
    const extractor = new WhisperFeatureExtractor({ feature_size: 128 });

    const batch = extractor.extract([Float32Array.from({ length: 8000 }, (_, n) => Math.sin(n / 3))]);

    expect(batch.shape).toEqual([1, 128, 3000]);
    expect(extractor.melFilters.length).toBe(201 * 128);
  });
});

describe("WhisperFeatureExtractor errors", () => {
  it("rejects a different sampling rate in extract", () => {
    expect(() => new WhisperFeatureExtractor().extract([new Float32Array(10)], 8000)).toThrow(InputError);
    expect(() => new WhisperFeatureExtractor().extract([new Float32Array(10)], 8000)).toThrow(
      /sampled at 8000 Hz but this Whisper feature extractor expects 16000 Hz; resample it/,
    );
  });

  it("rejects an empty batch", async () => {
    expect(() => new WhisperFeatureExtractor().extract([])).toThrow(/received no audio/);
    await expect(new WhisperFeatureExtractor().process([])).rejects.toThrow(/received no audio/);
  });

  it("rejects invalid config values", () => {
    expect(() => new WhisperFeatureExtractor({ hop_length: 0 })).toThrow(ConfigError);
    expect(() => new WhisperFeatureExtractor({ hop_length: 0 })).toThrow(/hop_length must be a positive integer, got 0/);
    expect(() => new WhisperFeatureExtractor({ n_fft: 400.5 }, "x.json")).toThrow(/n_fft in x\.json must be a positive integer, got 400\.5/);
    expect(() => new WhisperFeatureExtractor({ padding_value: "0" })).toThrow(/padding_value must be a number, got "0"/);
  });

  it("rejects another feature extractor type and a missing file", async () => {
    await expect(loadWhisperFeatureExtractor({ feature_extractor_type: "Wav2Vec2FeatureExtractor" })).rejects.toThrow(
      /feature_extractor_type is "Wav2Vec2FeatureExtractor", but only WhisperFeatureExtractor is supported/,
    );
    await expect(loadWhisperFeatureExtractor(fixturePath("missing/preprocessor_config.json"))).rejects.toThrow(
      /cannot read feature extractor config .*missing\/preprocessor_config\.json/,
    );
  });
});
