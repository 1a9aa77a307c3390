
import { ConfigError, InputError, getLogger } from "@mm/core";
import { readPreprocessorConfig } from "../config/read-preprocessor-config";

import type { AudioInput } from "./decoded-audio";
import { loadAudio } from "./load-audio";
import { melFilterBank } from "./mel-filter-bank";
import { resampleAudio } from "./resample";
import { logMelSpectrogram } from "./spectrogram";
import { parseWhisperConfig, type WhisperFeatureExtractorConfig } from "./whisper-config";

const logger = getLogger("processor/audio");

/** Upper edge of Whisper's mel filters in Hz, fixed in transformers' WhisperFeatureExtractor. */
const WHISPER_MAX_FREQUENCY = 8000;
/** Log10 range kept below each clip's maximum: 8 decades, 80 dB. */
const DYNAMIC_RANGE = 8;

/** Log-mel features of K clips. */
export interface AudioFeatureBatch {
  /** float32 `[K, feature_size, nb_max_frames]`, row-major. */
  input_features: Float32Array;
  shape: [number, number, number];
}

/**
 * Whisper's log-mel feature extractor, computing what transformers 4.40's WhisperFeatureExtractor
 * computes on its numpy path (`_np_extract_fbank_features`):
 * 1. pad with padding_value or truncate to chunk_length seconds (n_samples samples);
 * 2. log10 mel power spectrogram (periodic Hann window of n_fft, hop_length, reflect-centred
 *    frames, Slaney-scale, Slaney-normalised mel filters from 0 to 8000 Hz), dropping the last frame
 *    so that 30 s give 3000 frames;
 * 3. per clip, clamp to at least its maximum - 8, then (x + 4) / 4.
 * On the 8 s reference speech clip, the features are within 1.2e-7 of transformers 4.40.2's numpy
 * path and within 3.4e-5 of its default torch path, which runs torch.stft in float32.
 *
 * @example
 * const extractor = await loadWhisperFeatureExtractor("models/whisper-tiny");
 * const { input_features, shape } = await extractor.process(["clip.wav"]); // shape [1, 80, 3000]
 */
export class WhisperFeatureExtractor {
  readonly config: WhisperFeatureExtractorConfig;
  /** float64 `[n_fft / 2 + 1, feature_size]`, as transformers' `mel_filters` attribute. */
  readonly melFilters: Float64Array;

  /**
   * @param raw preprocessor_config.json contents; missing keys take transformers' defaults.
   * @param file the file `raw` came from, named in error messages.
   * @throws ConfigError for a key with an invalid value.
   */
  constructor(raw: Record<string, unknown> = {}, file?: string) {
    this.config = parseWhisperConfig(raw, file);
    this.melFilters = melFilterBank({
      numFrequencyBins: Math.floor(this.config.n_fft / 2) + 1,
      numMelFilters: this.config.feature_size,
      minFrequency: 0,
      maxFrequency: WHISPER_MAX_FREQUENCY,
      samplingRate: this.config.sampling_rate,
    });
  }

  /**
   * Computes the features of one clip that is already at `sampling_rate`.
   * @param waveform float32 `[numSamples]`.
   * @returns float32 `[feature_size, nb_max_frames]`.
   */
  extractOne(waveform: Float32Array): Float32Array {
    const { n_fft, hop_length, feature_size, nb_max_frames } = this.config;
    const { values } = logMelSpectrogram(this.padOrTruncate(waveform), {
      nFft: n_fft,
      hopLength: hop_length,
      melFilters: this.melFilters,
      numMelFilters: feature_size,
      maxFrames: nb_max_frames,
    });
    return normalizeLogMel(values);
  }

  /**
   * Computes the features of clips that are already at `sampling_rate`, as transformers'
   * `feature_extractor(raw_speech, sampling_rate=...)` does with its default padding and truncation.
   * @param samplingRate the clips' rate in Hz; when given it must equal the configured sampling_rate.
   * @throws InputError for an empty batch or a different sampling rate.
   */
  extract(waveforms: Float32Array[], samplingRate?: number): AudioFeatureBatch {
    if (waveforms.length === 0) throw new InputError("the Whisper feature extractor received no audio; pass at least one clip");
    if (samplingRate !== undefined && samplingRate !== this.config.sampling_rate) {
      throw new InputError(
        `the audio is sampled at ${samplingRate} Hz but this Whisper feature extractor expects ` +
          `${this.config.sampling_rate} Hz; resample it with resampleAudio, or call process, which resamples`,
      );
    }
    this.warnAboutTruncation(waveforms);
    const { feature_size, nb_max_frames } = this.config;
    const plane = feature_size * nb_max_frames;
    const features = new Float32Array(waveforms.length * plane);
    waveforms.forEach((waveform, index) => features.set(this.extractOne(waveform), index * plane));
    return { input_features: features, shape: [waveforms.length, feature_size, nb_max_frames] };
  }

  /**
   * Loads each clip (file path, encoded bytes or `{ samples, sampleRate }`), resamples it to
   * `sampling_rate` with `resampleAudio` and computes its features.
   * @returns input_features float32 `[K, feature_size, nb_max_frames]` and its shape.
   * @throws InputError for an empty batch or audio that cannot be loaded.
   */
  async process(inputs: AudioInput[]): Promise<AudioFeatureBatch> {
    if (inputs.length === 0) throw new InputError("the Whisper feature extractor received no audio; pass at least one clip");
    const clips = await Promise.all(inputs.map((input) => loadAudio(input)));
    const rate = this.config.sampling_rate;
    const resampled = clips.filter((clip) => clip.sampleRate !== rate).length;
    if (resampled > 0) logger.debug(`resampling ${resampled} of ${clips.length} audio clips to ${rate} Hz`);
    return this.extract(clips.map((clip) => resampleAudio(clip, rate).samples));
  }

  /** Pads with padding_value or cuts to n_samples, as transformers' pad(padding="max_length", truncation=True). */
  private padOrTruncate(waveform: Float32Array): Float32Array {
    const { n_samples, padding_value } = this.config;
    if (waveform.length >= n_samples) return waveform.subarray(0, n_samples);
    const padded = new Float32Array(n_samples).fill(padding_value);
    padded.set(waveform);
    return padded;
  }

  private warnAboutTruncation(waveforms: Float32Array[]): void {
    const { n_samples, chunk_length } = this.config;
    const longest = Math.max(...waveforms.map((waveform) => waveform.length));
    if (longest <= n_samples) return;
    const count = waveforms.filter((waveform) => waveform.length > n_samples).length;
    logger.warn(
      `${count} of ${waveforms.length} audio clips are longer than chunk_length ${chunk_length} s ` +
        `(longest: ${(longest / this.config.sampling_rate).toFixed(1)} s); only their first ${chunk_length} s are used`,
    );
  }
}

/**
 * Applies Whisper's log-mel normalisation in place, in float32 as numpy computes it on a float32 array:
 * max(x, max(x) - 8), then (x + 4) / 4.
 */
function normalizeLogMel(values: Float32Array): Float32Array {
  let maximum = -Infinity;
  for (const value of values) maximum = Math.max(maximum, value);
  const floor = Math.fround(maximum - DYNAMIC_RANGE);
  for (let i = 0; i < values.length; i++) values[i] = Math.fround(Math.max(values[i], floor) + 4) / 4;
  return values;
}

/**
 * Builds a WhisperFeatureExtractor from a preprocessor_config.json object, a path to that file, or
 * a model folder that contains it.
 * @throws ConfigError for a missing or invalid file, a feature_extractor_type other than
 *   WhisperFeatureExtractor, or an invalid key.
 */
export async function loadWhisperFeatureExtractor(source: string | Record<string, unknown>): Promise<WhisperFeatureExtractor> {
  const { raw, file } = typeof source === "string" ? await readPreprocessorConfig(source, "feature extractor") : { raw: source, file: undefined };
  const type = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>).feature_extractor_type : undefined;
  if (type !== undefined && type !== "WhisperFeatureExtractor") {
    throw new ConfigError(
      `feature_extractor_type${file ? ` in ${file}` : ""} is ${JSON.stringify(type)}, but only WhisperFeatureExtractor is supported`,
      "feature_extractor_type",
      file,
    );
  }
  return new WhisperFeatureExtractor(raw as Record<string, unknown>, file);
}
