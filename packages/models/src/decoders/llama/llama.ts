import { ConfigReader } from "../../pretrained/config-fields";
import { registerModelFamily } from "../../pretrained/registry";
import { DecoderForCausalLM } from "../llama-style/causal-lm";
import { readCommonSettings, type DecoderConfig, type DecoderDefaults, type DecoderSettings } from "../llama-style/decoder-settings";

/** Llama's `config.json` keys (LlamaConfig). */
export interface LlamaConfig extends DecoderConfig {
  /** Bias on q_proj, k_proj, v_proj and o_proj. */
  attention_bias?: boolean;
  /** Bias on gate_proj, up_proj and down_proj. */
  mlp_bias?: boolean;
}

/** LlamaConfig's defaults in transformers. */
export const LLAMA_DEFAULTS: DecoderDefaults = {
  vocab_size: 32000,
  hidden_size: 4096,
  intermediate_size: 11008,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  hidden_act: "silu",
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  tie_word_embeddings: false,
  initializer_range: 0.02,
};

/** Resolves a Llama `config.json`; invalid or inconsistent keys are a ConfigError naming `source`. */
export function readLlamaSettings(config: LlamaConfig, source = "config.json"): DecoderSettings {
  const reader = new ConfigReader(config, source);
  const common = readCommonSettings(reader, LLAMA_DEFAULTS);
  const attentionBias = reader.boolean("attention_bias", false);
  return {
    ...common,
    modelType: "llama",
    qkvBias: attentionBias,
    oProjBias: attentionBias,
    mlpBias: reader.boolean("mlp_bias", false),
    slidingWindows: new Array<undefined>(common.numHiddenLayers).fill(undefined),
    normUnitOffset: false,
    embeddingScale: 1,
  };
}

/**
 * Llama decoder with its LM head (transformers' LlamaForCausalLM), with random weights until
 * loaded. Example: `const model = loadPretrained<LlamaForCausalLM>("models/tiny-llama")`.
 */
export class LlamaForCausalLM extends DecoderForCausalLM {
  constructor(config: LlamaConfig, source = "config.json") {
    super(config, readLlamaSettings(config, source), source);
  }
}

registerModelFamily("llama", (config, source) => new LlamaForCausalLM(config as LlamaConfig, source), ["LlamaForCausalLM"]);
