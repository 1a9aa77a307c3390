import { ConfigReader } from "../../pretrained/config-fields";
import { registerModelFamily } from "../../pretrained/registry";
import { DecoderForCausalLM } from "../llama-style/causal-lm";
import {
  configError,
  positiveInteger,
  readCommonSettings,
  type DecoderConfig,
  type DecoderDefaults,
  type DecoderSettings,
} from "../llama-style/decoder-settings";

/** Qwen2's `config.json` keys (Qwen2Config). */
export interface Qwen2Config extends DecoderConfig {
  use_sliding_window?: boolean;
  sliding_window?: number | null;
  /** Layers from this index on use the sliding window (when use_sliding_window is true). */
  max_window_layers?: number;
  /** Newer configs: "sliding_attention" or "full_attention" per layer, overriding max_window_layers. */
  layer_types?: string[];
}

/** Qwen2Config's defaults in transformers. */
export const QWEN2_DEFAULTS: DecoderDefaults = {
  vocab_size: 151936,
  hidden_size: 4096,
  intermediate_size: 22016,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  hidden_act: "silu",
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  tie_word_embeddings: false,
  initializer_range: 0.02,
};

/** Resolves a Qwen2 `config.json`: Llama's layout with biases on q_proj, k_proj and v_proj only. */
export function readQwen2Settings(config: Qwen2Config, source = "config.json"): DecoderSettings {
  const reader = new ConfigReader(config, source);
  const common = readCommonSettings(reader, QWEN2_DEFAULTS);
  return {
    ...common,
    modelType: "qwen2",
    qkvBias: true,
    oProjBias: false,
    mlpBias: false,
    slidingWindows: readQwen2Windows(reader, common.numHiddenLayers),
    normUnitOffset: false,
    embeddingScale: 1,
  };
}

/**
 * Lists the sliding window of each layer. A window applies only when use_sliding_window is true,
 * as in current transformers.
 * NOTE: transformers 4.40's eager attention applied `sliding_window` to every layer even with
 * use_sliding_window false; the two differ only for sequences longer than the window.
 */
function readQwen2Windows(reader: ConfigReader, layers: number): Array<number | undefined> {
  const none = new Array<number | undefined>(layers).fill(undefined);
  if (!reader.boolean("use_sliding_window", false) || reader.config.sliding_window === null) return none;
  const window = positiveInteger(reader, "sliding_window", 4096);
  const layerTypes = reader.config.layer_types;
  if (Array.isArray(layerTypes)) {
    if (layerTypes.length !== layers) {
      throw configError(reader, "layer_types", `"layer_types" has ${layerTypes.length} entries but num_hidden_layers is ${layers}`);
    }
    return layerTypes.map((type) => (type === "sliding_attention" ? window : undefined));
  }
  const firstSlidingLayer = reader.integer("max_window_layers", 28);
  return none.map((_, i) => (i >= firstSlidingLayer ? window : undefined));
}

/** Qwen2 decoder with its LM head (transformers' Qwen2ForCausalLM), with random weights until loaded. */
export class Qwen2ForCausalLM extends DecoderForCausalLM {
  constructor(config: Qwen2Config, source = "config.json") {
    super(config, readQwen2Settings(config, source), source);
  }
}

registerModelFamily("qwen2", (config, source) => new Qwen2ForCausalLM(config as Qwen2Config, source), ["Qwen2ForCausalLM"]);
