import { ConfigReader } from "../../pretrained/config-fields";
import { registerModelFamily } from "../../pretrained/registry";
import { DecoderForCausalLM } from "../llama-style/causal-lm";
import { positiveInteger, readCommonSettings, type DecoderConfig, type DecoderDefaults, type DecoderSettings } from "../llama-style/decoder-settings";

/** Mistral's `config.json` keys (MistralConfig). */
export interface MistralConfig extends DecoderConfig {
  /** Query i attends key j only when i - j <= sliding_window; null turns the window off. */
  sliding_window?: number | null;
}

/** MistralConfig's defaults in transformers. */
export const MISTRAL_DEFAULTS: DecoderDefaults = {
  vocab_size: 32000,
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  hidden_act: "silu",
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  tie_word_embeddings: false,
  initializer_range: 0.02,
};

/** Resolves a Mistral `config.json`: Llama's layout without biases, with a sliding window on every layer. */
export function readMistralSettings(config: MistralConfig, source = "config.json"): DecoderSettings {
  const reader = new ConfigReader(config, source);
  const common = readCommonSettings(reader, MISTRAL_DEFAULTS);
  const window = reader.config.sliding_window === null ? undefined : positiveInteger(reader, "sliding_window", 4096);
  return {
    ...common,
    modelType: "mistral",
    qkvBias: false,
    oProjBias: false,
    mlpBias: false,
    slidingWindows: new Array<number | undefined>(common.numHiddenLayers).fill(window),
    normUnitOffset: false,
    embeddingScale: 1,
  };
}

/** Mistral decoder with its LM head (transformers' MistralForCausalLM), with random weights until loaded. */
export class MistralForCausalLM extends DecoderForCausalLM {
  constructor(config: MistralConfig, source = "config.json") {
    super(config, readMistralSettings(config, source), source);
  }
}

registerModelFamily("mistral", (config, source) => new MistralForCausalLM(config as MistralConfig, source), ["MistralForCausalLM"]);
