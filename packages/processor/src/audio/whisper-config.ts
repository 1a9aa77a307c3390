import { ConfigError } from "@mm/core";

/**
 * The settings of a WhisperFeatureExtractor, keyed as in preprocessor_config.json. `n_samples` and
 * `nb_max_frames` are derived from them, as transformers' constructor does.
 */
export interface WhisperFeatureExtractorConfig {
  /** Mel bins: 80 for Whisper up to large-v2, 128 for large-v3. */
  feature_size: number;
  /** Expected input rate in Hz. */
  sampling_rate: number;
  /** Samples between frames. */
  hop_length: number;
  /** Seconds every clip is padded or truncated to. */
  chunk_length: number;
  /** FFT and window length in samples. */
  n_fft: number;
  /** Value appended to pad clips to chunk_length. */
  padding_value: number;
  /** chunk_length * sampling_rate. */
  n_samples: number;
  /** floor(n_samples / hop_length): frames in the output. */
  nb_max_frames: number;
}

/** transformers 4.40's WhisperFeatureExtractor defaults, used for keys missing from the config. */
export const WHISPER_DEFAULTS = {
  feature_size: 80,
  sampling_rate: 16000,
  hop_length: 160,
  chunk_length: 30,
  n_fft: 400,
  padding_value: 0,
} as const;

/**
 * Reads a WhisperFeatureExtractor's keys from a preprocessor_config.json object over WHISPER_DEFAULTS.
 * Other keys (feature_extractor_type, processor_class, return_attention_mask and the derived
 * n_samples and nb_max_frames) are ignored, as transformers recomputes the derived ones.
 * @throws ConfigError for a key with an invalid value.
 */
export function parseWhisperConfig(raw: Record<string, unknown>, file?: string): WhisperFeatureExtractorConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`Whisper feature extractor config${file ? ` ${file}` : ""} must be a JSON object`, undefined, file);
  }
  const integer = (key: keyof typeof WHISPER_DEFAULTS) => readPositive(raw, key, file, true);
  const config = {
    feature_size: integer("feature_size"),
    sampling_rate: integer("sampling_rate"),
    hop_length: integer("hop_length"),
    chunk_length: readPositive(raw, "chunk_length", file, false),
    n_fft: integer("n_fft"),
    padding_value: readFinite(raw, "padding_value", file),
  };
  const n_samples = config.chunk_length * config.sampling_rate;
  if (!Number.isInteger(n_samples) || n_samples <= config.n_fft / 2) {
    throw new ConfigError(
      `chunk_length${where(file)} times sampling_rate must be a whole number of samples longer than n_fft / 2, ` +
        `got ${config.chunk_length} * ${config.sampling_rate} = ${n_samples}`,
      "chunk_length",
      file,
    );
  }
  return { ...config, n_samples, nb_max_frames: Math.floor(n_samples / config.hop_length) };
}

function readPositive(raw: Record<string, unknown>, key: keyof typeof WHISPER_DEFAULTS, file: string | undefined, integer: boolean): number {
  const value = raw[key] ?? WHISPER_DEFAULTS[key];
  const valid = typeof value === "number" && Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value));
  if (!valid) {
    throw new ConfigError(`${key}${where(file)} must be a positive ${integer ? "integer" : "number"}, got ${JSON.stringify(value)}`, key, file);
  }
  return value;
}

function readFinite(raw: Record<string, unknown>, key: keyof typeof WHISPER_DEFAULTS, file: string | undefined): number {
  const value = raw[key] ?? WHISPER_DEFAULTS[key];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ConfigError(`${key}${where(file)} must be a number, got ${JSON.stringify(value)}`, key, file);
  }
  return value;
}

function where(file: string | undefined): string {
  return file ? ` in ${file}` : "";
}
