import { describe, expect, it } from "vitest";

import { audioEncoderProcessor } from "./audio-encoder-processor";
import { fixturePath, maxAbsoluteError, readFloat32Reference } from "./test-support/fixtures";
import { loadWhisperFeatureExtractor } from "./whisper-feature-extractor";

describe("audioEncoderProcessor", () => {
  it("maps audio inputs to input_features", async () => {
    const processor = audioEncoderProcessor(await loadWhisperFeatureExtractor(fixturePath("whisper/preprocessor_config.json")));

    const output = await processor.process([fixturePath("whisper/speech_16k.wav")]);

    expect(processor.inputKey).toBe("audio");
    expect(processor.outputKey).toBe("input_features");
    expect(output.shape).toEqual([1, 80, 3000]);
    expect(maxAbsoluteError(output.values, readFloat32Reference("input_features.f32.bin.gz"))).toBeLessThan(1e-4);
  });

  it("accepts sample arrays at another rate", async () => {
    const processor = audioEncoderProcessor(await loadWhisperFeatureExtractor({}));
    const samples = Float32Array.from({ length: 8000 }, (_, n) => 0.3 * Math.sin((2 * Math.PI * 440 * n) / 8000));

    const output = await processor.process([{ samples, sampleRate: 8000 }, fixturePath("call-waiting.wav")]);

    expect(output.shape).toEqual([2, 80, 3000]);
    expect(output.values.every(Number.isFinite)).toBe(true);
  });
});
