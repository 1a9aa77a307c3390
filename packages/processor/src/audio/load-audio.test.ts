import { readFileSync } from "node:fs";

import { InputError } from "@mm/core";
import { describe, expect, it } from "vitest";

import { loadAudio } from "./load-audio";
import { fixturePath, maxAbsoluteError, readFloat32Reference, readWhisperReferences, sha256Hex } from "./test-support/fixtures";
import { writeFlac } from "./test-support/flac-writer";
import { writeWav } from "./test-support/wav-writer";

describe("loadAudio on the Whisper reference WAV", () => {
  const references = readWhisperReferences();

  it("decodes the waveform transformers received", async () => {
    const file = fixturePath("whisper/speech_16k.wav");
    const expected = readFloat32Reference("waveform.f32.bin.gz");

    const audio = await loadAudio(file);

    expect(sha256Hex(readFileSync(file))).toBe(references.audio.wav_sha256);
    expect(audio.sampleRate).toBe(references.audio.sample_rate);
    expect(audio.samples.length).toBe(references.inputs.waveform.shape[0]);
    expect(maxAbsoluteError(audio.samples, expected)).toBe(0);
    expect(sha256Hex(audio.samples)).toBe(references.inputs.waveform.sha256);
  });

  it("decodes a Buffer like the file", async () => {
    const file = fixturePath("whisper/speech_16k.wav");

    const fromBuffer = await loadAudio(readFileSync(file));
    const fromFile = await loadAudio(file);

    expect(maxAbsoluteError(fromBuffer.samples, fromFile.samples)).toBe(0);
  });
});

describe("loadAudio sample arrays", () => {
  it("returns { samples, sampleRate } as given", async () => {
    const samples = new Float32Array([0.1, -0.2]);

    const audio = await loadAudio({ samples, sampleRate: 8000 });

    expect(audio.samples).toBe(samples);
    expect(audio.sampleRate).toBe(8000);
  });

  it("rejects samples without a sampleRate", async () => {
    const input = { samples: new Float32Array(4) } as unknown as Parameters<typeof loadAudio>[0];

    await expect(loadAudio(input)).rejects.toThrow(InputError);
    await expect(loadAudio(input)).rejects.toThrow(/4 values\) have no sampleRate; pass \{ samples, sampleRate \}/);
  });

  it("rejects a bare Float32Array", async () => {
    const input = new Float32Array(4) as unknown as Parameters<typeof loadAudio>[0];

    await expect(loadAudio(input)).rejects.toThrow(/bare samples \(a Float32Array\) without a sampling rate/);
  });

  it("rejects invalid sampleRate and sample types", async () => {
    await expect(loadAudio({ samples: new Float32Array(2), sampleRate: 0 })).rejects.toThrow(/sampleRate must be a positive number of Hz, got 0/);
    const numbers = { samples: [0, 1], sampleRate: 8000 } as unknown as Parameters<typeof loadAudio>[0];
    await expect(loadAudio(numbers)).rejects.toThrow(/samples must be a Float32Array of mono samples, got an array/);
  });
});

describe("loadAudio errors", () => {
  const pcm = writeWav({ encoding: "pcm", bitsPerSample: 16, sampleRate: 8000, channels: 1, samples: [1, 2, 3, 4, 5, 6] });

  it("names a missing file", async () => {
    const missing = fixturePath("no-such-file.wav");

    await expect(loadAudio(missing)).rejects.toThrow(InputError);
    await expect(loadAudio(missing)).rejects.toThrow(/audio file not found: .*no-such-file\.wav; check the path/);
    await expect(loadAudio(missing)).rejects.toMatchObject({ file: missing });
  });

  it("rejects a truncated WAV", async () => {
    const truncated = pcm.subarray(0, pcm.length - 5);

    await expect(loadAudio(truncated)).rejects.toThrow(InputError);
    await expect(loadAudio(truncated)).rejects.toThrow(/data chunk declares 12 bytes but only 7 follow; the file is truncated/);
  });

  it("rejects a WAV cut inside its header", async () => {
    await expect(loadAudio(pcm.subarray(0, 30))).rejects.toThrow(/invalid WAV file from a Buffer of 30 bytes: it has no data chunk/);
  });

  it("rejects a non-audio file with its name", async () => {
    const file = fixturePath("not-audio.wav");

    await expect(loadAudio(file)).rejects.toThrow(InputError);
    await expect(loadAudio(file)).rejects.toThrow(/cannot decode audio .*not-audio\.wav: it is not a WAV or FLAC file; .*ffmpeg/);
  });

  it("names unsupported WAV encodings", async () => {
    const alaw = Buffer.from(pcm);
    alaw.writeUInt16LE(6, 20);

    await expect(loadAudio(alaw)).rejects.toThrow(/unsupported WAV encoding .*: A-law \(0x0006\) with 16 bits per sample/);
  });

  it("names unsupported containers and codecs", async () => {
    const rifx = Buffer.from(pcm);
    rifx.write("RIFX", 0, "latin1");

    await expect(loadAudio(rifx)).rejects.toThrow(/RIFX containers .* are not supported/);
    await expect(loadAudio(Buffer.from("OggS\0\x02rest", "latin1"))).rejects.toThrow(/it is an Ogg file/);
    await expect(loadAudio(Buffer.from("ID3\x04rest", "latin1"))).rejects.toThrow(/it is an MP3 file/);
  });

  it("rejects a block align that does not match", async () => {
    const misaligned = Buffer.from(pcm);
    misaligned.writeUInt16LE(4, 32);

    await expect(loadAudio(misaligned)).rejects.toThrow(/block align is 4 bytes, but 1 channels of 16-bit samples need 2/);
  });
});

describe("loadAudio FLAC", () => {
  /** Integer samples covering both ends of the range and a tone. */
  function channel(bits: number, length: number, phase: number): Int32Array {
    const full = 2 ** (bits - 1);
    const samples = Int32Array.from({ length }, (_, i) => Math.round(Math.sin(i * 0.05 + phase) * (full - 1)));
    samples[0] = -full;
    samples[1] = full - 1;
    return samples;
  }

  it.each([8, 16, 24] as const)("%i-bit stereo decodes to integer / 2^(bits - 1)", async (bits) => {
    const left = channel(bits, 5000, 0);
    const right = channel(bits, 5000, 1);
    const full = 2 ** (bits - 1);

    const audio = await loadAudio(writeFlac([left, right], 22050, bits, 1024));

    expect(audio.sampleRate).toBe(22050);
    const expected = Array.from(left, (value, i) => Math.fround((value / full + right[i] / full) / 2));
    expect(Array.from(audio.samples)).toEqual(expected);
  });

  it("rejects a corrupt FLAC frame", async () => {
    const flac = writeFlac([channel(16, 3000, 0)], 16000, 16, 1024);
    const corrupt = Buffer.from(flac);
    corrupt[200] ^= 0xff;
    corrupt[3000] ^= 0xff;

    await expect(loadAudio(corrupt)).rejects.toThrow(InputError);
    await expect(loadAudio(corrupt)).rejects.toThrow(/cannot decode FLAC file from a Buffer of \d+ bytes: .*corrupt or truncated/);
  });
});
