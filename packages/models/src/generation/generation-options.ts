import { ConfigError, SeededRandom, getLogger } from "@mm/core";

const log = getLogger("models.generation");

/**
 * Decoding settings. Keys that transformers' GenerationConfig also has keep its spelling and
 * defaults (transformers 4.40), so the values of a `generation_config.json` can be spread in.
 */
export interface GenerationOptions {
  /** Tokens to generate per row at most. */
  max_new_tokens: number;
  /** Sample from the processed distribution; false (the default) takes the argmax (greedy). */
  do_sample?: boolean;
  /** Divides the logits before sampling; must be > 0. Default 1. Ignored by greedy decoding. */
  temperature?: number;
  /** Samples only among the k highest logits and any tied with the k-th; 0 turns it off. Default 50. Ignored by greedy decoding. */
  top_k?: number;
  /** Samples only from the smallest set of tokens whose probability sums to at least top_p, in (0, 1]. Default 1 (off). Ignored by greedy decoding. */
  top_p?: number;
  /** > 1 makes already present token ids less likely (see applyRepetitionPenalty). Default 1 (off). */
  repetition_penalty?: number;
  /**
   * Token ids that end a row, kept as its last new token. Default: `eos_token_id` of the model's
   * config.json (its generation_config.json is not read). null or [] never ends a row early.
   */
  eos_token_id?: number | number[] | null;
  /** Fills a row after it ended. Default: config.json's pad_token_id, else the first eos id. */
  pad_token_id?: number | null;
  /** Also return the processed scores of every step. */
  output_scores?: boolean;
  /** Also return the raw logits of every step. */
  output_logits?: boolean;
  /** Seed of the sampling generator when `random` is absent. Default 0. */
  seed?: number;
  /** The generator to sample from, e.g. to continue one stream over several calls. Overrides `seed`. */
  random?: SeededRandom;
}

/** GenerationOptions checked and completed with defaults. */
export interface ResolvedGenerationOptions {
  maxNewTokens: number;
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  eosTokenIds: Set<number>;
  /** Written after a row's eos; unused when eosTokenIds is empty, because then no row ends early. */
  padTokenId: number;
  outputScores: boolean;
  outputLogits: boolean;
  random: SeededRandom;
}

/** The config.json keys generation falls back to. */
export interface GenerationDefaults {
  eos_token_id?: unknown;
  pad_token_id?: unknown;
}

/**
 * Checks `options` and fills in defaults, with eos and pad ids from the model's config.json.
 * Throws ConfigError naming the key for a value out of range or a token id outside [0, vocabSize).
 */
export function resolveGenerationOptions(options: GenerationOptions, config: GenerationDefaults, vocabSize: number): ResolvedGenerationOptions {
  const eosTokenIds = readEosTokenIds(options.eos_token_id === undefined ? config.eos_token_id : options.eos_token_id, vocabSize);
  const padTokenId = options.pad_token_id ?? validTokenId(config.pad_token_id, vocabSize) ?? [...eosTokenIds][0] ?? 0;
  const resolved: ResolvedGenerationOptions = {
    maxNewTokens: checkInteger("max_new_tokens", options.max_new_tokens, 1),
    doSample: options.do_sample ?? false,
    temperature: checkPositive("temperature", options.temperature ?? 1),
    topK: checkInteger("top_k", options.top_k ?? 50, 0),
    topP: checkTopP(options.top_p ?? 1),
    repetitionPenalty: checkPositive("repetition_penalty", options.repetition_penalty ?? 1),
    eosTokenIds,
    padTokenId: checkTokenId("pad_token_id", padTokenId, vocabSize),
    outputScores: options.output_scores ?? false,
    outputLogits: options.output_logits ?? false,
    random: options.random ?? new SeededRandom(options.seed ?? 0),
  };
  warnAboutIgnoredSampling(options, resolved.doSample);
  return resolved;
}

function warnAboutIgnoredSampling(options: GenerationOptions, doSample: boolean): void {
  if (doSample) return;
  const ignored = (["temperature", "top_k", "top_p"] as const).filter((key) => options[key] !== undefined);
  if (ignored.length > 0) log.warn(`do_sample is false, so generation is greedy and ignores ${ignored.join(", ")}`);
}

function readEosTokenIds(value: unknown, vocabSize: number): Set<number> {
  if (value == null) return new Set();
  const ids = Array.isArray(value) ? value : [value];
  return new Set(ids.map((id) => checkTokenId("eos_token_id", id, vocabSize)));
}

/** Some config.json files hold a pad_token_id outside the vocabulary (e.g. -1); those are skipped. */
function validTokenId(value: unknown, vocabSize: number): number | undefined {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) < vocabSize ? (value as number) : undefined;
}

function checkTokenId(key: string, value: unknown, vocabSize: number): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) >= vocabSize) {
    throw new ConfigError(`${key} ${JSON.stringify(value)} is not a token id of this model's vocabulary of ${vocabSize}; pass an integer in [0, ${vocabSize})`, key);
  }
  return value as number;
}

function checkInteger(key: string, value: unknown, minimum: number): number {
  if (!Number.isInteger(value) || (value as number) < minimum) {
    throw new ConfigError(`${key} must be an integer >= ${minimum}, got ${JSON.stringify(value)}`, key);
  }
  return value as number;
}

function checkPositive(key: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new ConfigError(`${key} must be a finite number > 0, got ${value}`, key);
  return value;
}

function checkTopP(value: number): number {
  if (!(value > 0 && value <= 1)) throw new ConfigError(`top_p must be in (0, 1], got ${value}`, "top_p");
  return value;
}
