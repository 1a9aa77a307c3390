import { ConfigError } from "@mm/core";
import { ConfigReader } from "../../pretrained/config-fields";

/**
 * The `config.json` keys that every Llama-style family reads, spelled as Hugging Face spells them.
 * Family config types extend this with their own keys. Absent keys take the family's defaults.
 */
export interface DecoderConfig {
  model_type?: string;
  architectures?: string[];
  vocab_size?: number;
  hidden_size?: number;
  intermediate_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  /** Key/value heads for grouped-query attention; null or absent means num_attention_heads. */
  num_key_value_heads?: number | null;
  /** Per-head size; null or absent means hidden_size / num_attention_heads. */
  head_dim?: number | null;
  hidden_act?: string;
  rms_norm_eps?: number;
  rope_theta?: number;
  rope_scaling?: Record<string, unknown> | null;
  tie_word_embeddings?: boolean;
  pad_token_id?: number | null;
  initializer_range?: number;
  [key: string]: unknown;
}

/** Rotary-embedding frequency scaling read from `rope_scaling`. */
export type RopeScaling =
  | { ropeType: "linear"; factor: number }
  | { ropeType: "llama3"; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number };

/** The resolved architecture of a Llama-style decoder, shared by all families. */
export interface DecoderSettings {
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  /** Activation name of the gated MLP, as in transformers' ACT2FN. */
  hiddenAct: string;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling?: RopeScaling;
  /** lm_head reuses model.embed_tokens.weight instead of holding its own weight. */
  tieWordEmbeddings: boolean;
  /** Bias on q_proj, k_proj and v_proj. */
  qkvBias: boolean;
  oProjBias: boolean;
  /** Bias on gate_proj, up_proj and down_proj. */
  mlpBias: boolean;
  /**
   * Per layer: query i attends key j only when i - j <= window, or undefined for plain causal
   * attention. Length numHiddenLayers.
   */
  slidingWindows: Array<number | undefined>;
  /** RMSNorm scales by (1 + weight) and the weight starts at 0 (Gemma). */
  normUnitOffset: boolean;
  /** Factor applied to every token embedding (Gemma: sqrt(hidden_size) rounded to float32; else 1). */
  embeddingScale: number;
  /** Token id whose embedding row gets no gradient from the lookup, as nn.Embedding's padding_idx. */
  paddingIdx?: number;
  /** Standard deviation of the random initialisation. */
  initializerRange: number;
}

/** A family's values for absent keys, taken from its transformers configuration class. */
export interface DecoderDefaults {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  hidden_act: string;
  rms_norm_eps: number;
  rope_theta: number;
  tie_word_embeddings: boolean;
  initializer_range: number;
  /** When absent, num_key_value_heads defaults to num_attention_heads. */
  num_key_value_heads?: number;
  /** When absent, head_dim defaults to hidden_size / num_attention_heads. */
  head_dim?: number;
  /** When absent, no token id is the padding id. */
  pad_token_id?: number;
}

/** The settings every family reads the same way; the family fills in biases, windows and norms. */
export type CommonSettings = Omit<
  DecoderSettings,
  "modelType" | "qkvBias" | "oProjBias" | "mlpBias" | "slidingWindows" | "normUnitOffset" | "embeddingScale"
>;

/** Reads and validates the keys shared by all Llama-style families. */
export function readCommonSettings(reader: ConfigReader, defaults: DecoderDefaults): CommonSettings {
  const hiddenSize = positiveInteger(reader, "hidden_size", defaults.hidden_size);
  const numAttentionHeads = positiveInteger(reader, "num_attention_heads", defaults.num_attention_heads);
  const numKeyValueHeads = positiveInteger(reader, "num_key_value_heads", defaults.num_key_value_heads ?? numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw configError(reader, "num_key_value_heads", `num_attention_heads (${numAttentionHeads}) must be a multiple of num_key_value_heads (${numKeyValueHeads})`);
  }
  const vocabSize = positiveInteger(reader, "vocab_size", defaults.vocab_size);
  return {
    vocabSize,
    hiddenSize,
    intermediateSize: positiveInteger(reader, "intermediate_size", defaults.intermediate_size),
    numHiddenLayers: positiveInteger(reader, "num_hidden_layers", defaults.num_hidden_layers),
    numAttentionHeads,
    numKeyValueHeads,
    headDim: readHeadDim(reader, defaults, hiddenSize, numAttentionHeads),
    hiddenAct: reader.string("hidden_act", defaults.hidden_act),
    rmsNormEps: reader.number("rms_norm_eps", defaults.rms_norm_eps),
    ropeTheta: reader.number("rope_theta", defaults.rope_theta),
    ropeScaling: readRopeScaling(reader),
    tieWordEmbeddings: reader.boolean("tie_word_embeddings", defaults.tie_word_embeddings),
    paddingIdx: readPaddingIdx(reader, defaults, vocabSize),
    initializerRange: reader.number("initializer_range", defaults.initializer_range),
  };
}

/** An integer key that must be at least 1. */
export function positiveInteger(reader: ConfigReader, key: string, fallback?: number): number {
  const value = reader.integer(key, fallback);
  if (value < 1) throw configError(reader, key, `"${key}" must be a positive integer, got ${value}`);
  return value;
}

/** A key that may be null or absent: returns undefined then, else the validated positive integer. */
export function optionalPositiveInteger(reader: ConfigReader, key: string): number | undefined {
  return reader.config[key] == null ? undefined : positiveInteger(reader, key);
}

export function configError(reader: ConfigReader, key: string, problem: string): ConfigError {
  return new ConfigError(`${reader.source}: ${problem}`, key, reader.source);
}

function readHeadDim(reader: ConfigReader, defaults: DecoderDefaults, hiddenSize: number, numAttentionHeads: number): number {
  const explicit = optionalPositiveInteger(reader, "head_dim") ?? defaults.head_dim;
  if (explicit !== undefined) return explicit;
  if (hiddenSize % numAttentionHeads !== 0) {
    throw configError(reader, "head_dim", `hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numAttentionHeads}); set "head_dim"`);
  }
  return hiddenSize / numAttentionHeads;
}

/**
 * transformers gives nn.Embedding padding_idx = pad_token_id. An absent key takes the family
 * default, null means none, and an id outside the vocabulary is ignored.
 */
function readPaddingIdx(reader: ConfigReader, defaults: DecoderDefaults, vocabSize: number): number | undefined {
  const value = "pad_token_id" in reader.config ? reader.config.pad_token_id : defaults.pad_token_id;
  if (value == null) return undefined;
  const padTokenId = reader.integer("pad_token_id", value as number);
  return padTokenId >= 0 && padTokenId < vocabSize ? padTokenId : undefined;
}

const SUPPORTED_ROPE_TYPES = "linear, llama3, default (or rope_scaling null)";

/** Reads `rope_scaling`; its type is under "rope_type" (newer configs) or "type" (older ones). */
function readRopeScaling(reader: ConfigReader): RopeScaling | undefined {
  if (reader.config.rope_scaling == null) return undefined;
  const scaling = new ConfigReader(reader.object("rope_scaling"), `${reader.source} rope_scaling`);
  const legacyType = typeof scaling.config.type === "string" ? scaling.config.type : undefined;
  const ropeType = scaling.string("rope_type", legacyType);
  if (ropeType === "default") return undefined;
  if (ropeType === "linear") return { ropeType, factor: scaling.number("factor") };
  if (ropeType === "llama3") {
    return {
      ropeType,
      factor: scaling.number("factor"),
      lowFreqFactor: scaling.number("low_freq_factor"),
      highFreqFactor: scaling.number("high_freq_factor"),
      originalMaxPositionEmbeddings: scaling.number("original_max_position_embeddings"),
    };
  }
  throw configError(reader, "rope_scaling", `unsupported rope_scaling type "${ropeType}"; supported: ${SUPPORTED_ROPE_TYPES}`);
}
