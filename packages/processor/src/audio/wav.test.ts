import { describe, expect, it } from "vitest";

import { loadAudio } from "./load-audio";
import { writeWav, type WavSpec } from "./test-support/wav-writer";

/** Integer codes that hit both ends of the range, zero and values in between, per bit depth. */
function pcmCodes(bits: 8 | 16 | 24 | 32, count: number): number[] {
  const full = 2 ** (bits - 1);
  const ends = bits === 8 ? [0, 255, 128, 1, 127, 129] : [-full, full - 1, 0, -1, 1, Math.floor(full / 3)];
  const codes = [...ends];
  for (let i = codes.length; i < count; i++) {
    const fraction = Math.sin(i * 0.37) * 0.9;
    codes.push(bits === 8 ? Math.round(128 + fraction * 127) : Math.round(fraction * (full - 1)));
  }
  return codes;
}

/**
 * libsndfile's float32 value of a stored PCM code: (u - 128) / 128 for 8 bits, code / 2^(bits - 1)
 * otherwise, rounded to float32 per sample (only 32-bit codes change).
 */
function pcmValue(code: number, bits: number): number {
  return Math.fround(bits === 8 ? (code - 128) / 128 : code / 2 ** (bits - 1));
}

/** Returns the channel mean of interleaved values, rounded to float32 as the decoder stores it. */
function expectedMono(values: number[], channels: number): number[] {
  const frames = values.length / channels;
  return Array.from({ length: frames }, (_, frame) => {
    const channelValues = values.slice(frame * channels, (frame + 1) * channels);
    return Math.fround(channelValues.reduce((sum, value) => sum + value, 0) / channels);
  });
}

describe("loadAudio WAV integer PCM", () => {
  const cases = [8, 16, 24, 32].flatMap((bits) => [1, 2, 6].map((channels) => ({ bits: bits as 8 | 16 | 24 | 32, channels })));

  it.each(cases)("$bits-bit, $channels channels", async ({ bits, channels }) => {
    const codes = pcmCodes(bits, 24 * channels);
    const bytes = writeWav({ encoding: "pcm", bitsPerSample: bits, sampleRate: 11025, channels, samples: codes });

    const audio = await loadAudio(bytes);

    expect(audio.sampleRate).toBe(11025);
    expect(Array.from(audio.samples)).toEqual(expectedMono(codes.map((code) => pcmValue(code, bits)), channels));
  });

  it("maps full scale to -1 and just below 1", async () => {
    const bytes = writeWav({ encoding: "pcm", bitsPerSample: 16, sampleRate: 8000, channels: 1, samples: [-32768, 32767, 0] });

    const audio = await loadAudio(bytes);

    expect(Array.from(audio.samples)).toEqual([-1, Math.fround(32767 / 32768), 0]);
  });
});

describe("loadAudio WAV float and EXTENSIBLE", () => {
  const floats = Array.from({ length: 40 }, (_, i) => Math.sin(i * 0.5) * 0.8 + (i === 3 ? 0.5 : 0));
  const cases: Array<{ name: string; spec: Omit<WavSpec, "samples" | "sampleRate"> }> = [
    { name: "IEEE float 32-bit mono", spec: { encoding: "float", bitsPerSample: 32, channels: 1 } },
    { name: "IEEE float 32-bit stereo", spec: { encoding: "float", bitsPerSample: 32, channels: 2 } },
    { name: "IEEE float 64-bit stereo", spec: { encoding: "float", bitsPerSample: 64, channels: 2 } },
    { name: "EXTENSIBLE float 32-bit, 4 channels", spec: { encoding: "float", bitsPerSample: 32, channels: 4, extensible: true } },
  ];

  it.each(cases)("$name", async ({ spec }) => {
    const bytes = writeWav({ ...spec, sampleRate: 48000, samples: floats });
    const stored = floats.map((value) => (spec.bitsPerSample === 32 ? Math.fround(value) : value));

    const audio = await loadAudio(bytes);

    expect(audio.sampleRate).toBe(48000);
    expect(Array.from(audio.samples)).toEqual(expectedMono(stored.map(Math.fround), spec.channels));
  });

  it.each([16, 24] as const)("EXTENSIBLE PCM %i-bit stereo", async (bits) => {
    const codes = pcmCodes(bits, 32);
    const bytes = writeWav({ encoding: "pcm", bitsPerSample: bits, sampleRate: 44100, channels: 2, samples: codes, extensible: true });

    const audio = await loadAudio(bytes);

    expect(Array.from(audio.samples)).toEqual(expectedMono(codes.map((code) => pcmValue(code, bits)), 2));
  });
});

describe("loadAudio WAV chunks", () => {
  it("skips LIST and odd-sized chunks before data", async () => {
    const extraChunks = [
      { id: "LIST", data: Buffer.from("INFOISFT\x05\x00\x00\x00test\x00", "latin1") },
      { id: "odd ", data: Buffer.from([1, 2, 3]) },
    ];
    const bytes = writeWav({ encoding: "pcm", bitsPerSample: 16, sampleRate: 8000, channels: 1, samples: [100, -200, 300], extraChunks });

    const audio = await loadAudio(bytes);

    expect(Array.from(audio.samples)).toEqual([100 / 32768, -200 / 32768, 300 / 32768].map(Math.fround));
  });

  it("reads a 0xFFFFFFFF data size to the end", async () => {
    const bytes = writeWav({ encoding: "pcm", bitsPerSample: 16, sampleRate: 8000, channels: 1, samples: [1, 2, 3, 4] });
    bytes.writeUInt32LE(0xffffffff, 40);

    const audio = await loadAudio(bytes);

    expect(audio.samples.length).toBe(4);
  });
});
