import { join } from "node:path";
import { EXAMPLE } from "./example-processor";

/**
 * Returns a `mm train` config for a tiny Llama (hidden 16, 1 layer, the example tokenizer's 32,000 ids)
 * behind a tiny CLIP vision tower (32×32 images, 4 patches), trained on the example captions.
 * Paths are absolute, so the config can be written anywhere.
 */
export function tinyVlmConfig(output: string, training: Record<string, unknown> = {}, data: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    seed: 1,
    backend: "wasm",
    model: {
      languageModel: {
        config: {
          model_type: "llama",
          vocab_size: 32000,
          hidden_size: 16,
          intermediate_size: 32,
          num_hidden_layers: 1,
          num_attention_heads: 2,
          num_key_value_heads: 1,
          max_position_embeddings: 128,
          rms_norm_eps: 1e-5,
          tie_word_embeddings: false,
          bos_token_id: 1,
          eos_token_id: 2,
        },
      },
      encoders: {
        vision: {
          model: {
            config: {
              model_type: "clip_vision_model",
              hidden_size: 16,
              intermediate_size: 32,
              num_hidden_layers: 1,
              num_attention_heads: 2,
              num_channels: 3,
              image_size: 32,
              patch_size: 16,
              hidden_act: "quick_gelu",
              layer_norm_eps: 1e-5,
            },
          },
          processor: { config: { image_processor_type: "CLIPImageProcessor", size: { shortest_edge: 32 }, crop_size: { height: 32, width: 32 } } },
          token: "<image>",
        },
      },
    },
    tokenizer: join(EXAMPLE, "tokenizer"),
    data: { train: join(EXAMPLE, "data", "captions.json"), ...data },
    training: { steps: 6, batchSize: 2, learningRate: 0.003, warmupSteps: 1, logEvery: 1, ...training },
    output,
  };
}
