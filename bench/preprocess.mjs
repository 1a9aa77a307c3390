#!/usr/bin/env node
// Benchmark tooling, not part of `npm test`: measures @mm/processor's throughput and prints one
// JSON object on stdout.
// - images: CLIPImageProcessor with its defaults (shortest edge 224 bicubic, crop 224x224) on the
//   photos in examples/vlm/data/images, from encoded bytes in memory to pixel_values;
// - audio: WhisperFeatureExtractor with its defaults (80 mel bins, 16 kHz, 30 s windows) on the
//   WAV clips in packages/processor/test-fixtures/audio, both the whole `process` path (decode,
//   resample, log-mel) and `extract` alone on waveforms already at 16 kHz.
//
//   node bench/preprocess.mjs --rounds 3
import { readFileSync, readdirSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { loadProcessor } from "./lib/mm-packages.mjs";

const IMAGE_FOLDER = new URL("../examples/vlm/data/images/", import.meta.url);
const AUDIO_FOLDER = new URL("../packages/processor/test-fixtures/audio/", import.meta.url);
const AUDIO_CLIPS = ["vm-login.wav", "call-waiting.wav", "whisper/speech_16k.wav"];

/** Runs `work` once untimed, then `rounds` times, and returns the milliseconds of each timed round. */
async function timeRounds(rounds, work) {
  await work();
  const roundMs = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await work();
    roundMs.push(performance.now() - started);
  }
  return roundMs;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function measureImages(processor, rounds) {
  const files = readdirSync(IMAGE_FOLDER).filter((name) => /\.(png|jpe?g)$/i.test(name)).sort();
  const images = files.map((name) => readFileSync(new URL(name, IMAGE_FOLDER)));
  const clip = new processor.CLIPImageProcessor();
  const roundMs = await timeRounds(rounds, () => clip.process(images));
  return { files, roundMs, imagesPerSecond: (images.length * 1000) / median(roundMs) };
}

async function measureAudio(processor, rounds) {
  if (processor.WhisperFeatureExtractor === undefined) return { status: "unavailable", reason: "@mm/processor does not export WhisperFeatureExtractor" };
  const extractor = new processor.WhisperFeatureExtractor();
  const rate = extractor.config.sampling_rate;
  const buffers = AUDIO_CLIPS.map((name) => readFileSync(new URL(name, AUDIO_FOLDER)));
  const clips = await Promise.all(buffers.map((buffer) => processor.loadAudio(buffer)));
  const seconds = clips.reduce((sum, clip) => sum + clip.samples.length / clip.sampleRate, 0);
  const waveforms = clips.map((clip) => processor.resampleAudio(clip, rate).samples);

  const processMs = await timeRounds(rounds, () => extractor.process(buffers));
  const extractMs = await timeRounds(rounds, () => extractor.extract(waveforms, rate));
  return {
    status: "measured",
    files: AUDIO_CLIPS,
    sampleRates: clips.map((clip) => clip.sampleRate),
    audioSeconds: seconds,
    windowsPerRound: clips.length,
    processMs,
    extractMs,
    processAudioSecondsPerSecond: (seconds * 1000) / median(processMs),
    extractAudioSecondsPerSecond: (seconds * 1000) / median(extractMs),
    extractWindowsPerSecond: (clips.length * 1000) / median(extractMs),
  };
}

async function main() {
  const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" } } });
  const rounds = Number(values.rounds);
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be an integer of at least 1, got "${values.rounds}"`);
  const processor = await loadProcessor();
  const images = await measureImages(processor, rounds);
  const audio = await measureAudio(processor, rounds);
  console.log(JSON.stringify({ rounds, images, audio }));
}

main().catch((error) => {
  console.error(`preprocess failed: ${error.stack ?? error}`);
  process.exit(1);
});
