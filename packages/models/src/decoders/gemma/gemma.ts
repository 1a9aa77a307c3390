import { getLogger } from "@mm/core";
import { ConfigReader } from "../../pretrained/config-fields";
import { registerModelFamily } from "../../pretrained/registry";
import { DecoderForCausalLM } from "../llama-style/causal-lm";
import { readCommonSettings, type DecoderConfig, type DecoderDefaults, type DecoderSettings } from "../llama-style/decoder-settings";

const log = getLogger("models.gemma");

/** Gemma's `config.json` keys (GemmaConfig). */
export interface GemmaConfig extends DecoderConfig {
  /** The MLP activation; null or absent means gelu_pytorch_tanh (hidden_act is not read). */
  hidden_activation?: string | null;
  /** Bias on q_proj, k_proj, v_proj and o_proj. */
  attention_bias?: boolean;
}

/** GemmaConfig's defaults in transformers. */
export const GEMMA_DEFAULTS: DecoderDefaults = {
  vocab_size: 256000,
  hidden_size: 3072,
  intermediate_size: 24576,
  num_hidden_layers: 28,
  num_attention_heads: 16,
  head_dim: 256,
  hidden_act: "gelu_pytorch_tanh",
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  tie_word_embeddings: true,
  pad_token_id: 0,
  initializer_range: 0.02,
};

/**
 * Resolves a Gemma `config.json`: Llama's layout with RMSNorm scaling by (1 + weight), embeddings
 * multiplied by sqrt(hidden_size) and, by default, the LM head tied to the embeddings.
 */
export function readGemmaSettings(config: GemmaConfig, source = "config.json"): DecoderSettings {
  const reader = new ConfigReader(config, source);
  const common = readCommonSettings(reader, GEMMA_DEFAULTS);
  const attentionBias = reader.boolean("attention_bias", false);
  return {
    ...common,
    modelType: "gemma",
    hiddenAct: readGemmaActivation(reader),
    qkvBias: attentionBias,
    oProjBias: attentionBias,
    mlpBias: false,
    slidingWindows: new Array<undefined>(common.numHiddenLayers).fill(undefined),
    normUnitOffset: true,
    // transformers multiplies by torch.tensor(hidden_size ** 0.5, dtype=hidden dtype): float32 here.
    embeddingScale: Math.fround(Math.sqrt(common.hiddenSize)),
  };
}

/**
 * transformers 4.40 reads `hidden_activation` and falls back to gelu_pytorch_tanh, ignoring
 * `hidden_act`, because the first Gemma configs shipped "hidden_act": "gelu" (the exact erf form)
 * for a model trained with the tanh approximation.
 */
function readGemmaActivation(reader: ConfigReader): string {
  if (reader.config.hidden_activation != null) return reader.string("hidden_activation");
  const hiddenAct = reader.config.hidden_act;
  if (hiddenAct !== undefined && hiddenAct !== "gelu_pytorch_tanh") {
    log.warn(`${reader.source}: "hidden_activation" is not set, so the MLP uses gelu_pytorch_tanh and ignores "hidden_act": ${JSON.stringify(hiddenAct)}`);
  }
  return "gelu_pytorch_tanh";
}

/**
 * Gemma decoder with its LM head (transformers' GemmaForCausalLM), with random weights until
 * loaded. `embedTokens` includes the sqrt(hidden_size) scale; see DecoderForCausalLM for what
 * that means for `inputs_embeds`.
 */
export class GemmaForCausalLM extends DecoderForCausalLM {
  constructor(config: GemmaConfig, source = "config.json") {
    super(config, readGemmaSettings(config, source), source);
  }
}

registerModelFamily("gemma", (config, source) => new GemmaForCausalLM(config as GemmaConfig, source), ["GemmaForCausalLM"]);
