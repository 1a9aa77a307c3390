import type * as tf from "@tensorflow/tfjs";
import type { Module } from "../nn/module";

/** Output of a modality encoder, keys spelled as in transformers. */
export interface EncoderOutput {
  /** [K, N, C]: K inputs, N feature rows each, hidden size C. */
  last_hidden_state: tf.Tensor;
  pooler_output?: tf.Tensor;
  /** Embedding output then each layer's output, each [K, N, C], when requested. */
  hidden_states?: tf.Tensor[];
}

/** What the MultimodalModel needs from a modality encoder (CLIP, SigLIP, ViT, Whisper, ...). */
export interface ModalityEncoder extends Module {
  /** Size C of each output feature row. */
  readonly hiddenSize: number;
  /** The batch key of the encoder's main input, e.g. "pixel_values" or "input_features". */
  readonly mainInputName: string;
  /**
   * Feature rows the encoder outputs per input when that count is fixed (CLIP: patches + 1;
   * SigLIP: patches; Whisper: max_source_positions). The processor expands each modality token to
   * this many placeholders unless a callback changes the count.
   */
  readonly numFeatures?: number;
  forward(inputs: Record<string, tf.Tensor>, options?: { outputHiddenStates?: boolean }): EncoderOutput;
}

/** Inputs of a decoder-only language model, keys spelled as in transformers. */
export interface LanguageModelInputs {
  input_ids?: tf.Tensor;
  inputs_embeds?: tf.Tensor;
  attention_mask?: tf.Tensor;
  position_ids?: tf.Tensor;
  /** [B, T] int32, -100 where no loss is taken; the shift to next-token targets happens inside. */
  labels?: tf.Tensor | Int32Array;
  /** Divides the summed token loss by this count instead of this batch's own trained-token count. */
  lossNormalizer?: number;
  /**
   * With labels: run the LM head only at positions that have a trained next-token target, for
   * training, where only the loss is used. `logits` is then [1, K, V] over those K positions in
   * row-major order. The loss is the same as with every position's logits.
   */
  logitsForLossOnly?: boolean;
}

export interface LanguageModelOutput {
  /** [B, T, V] float32. */
  logits: tf.Tensor;
  /** Scalar mean cross-entropy over trained targets, present when labels were given. */
  loss?: tf.Tensor;
}

/** What the MultimodalModel needs from a decoder-only LLM (Llama, Qwen2, Mistral, Gemma, ...). */
export interface CausalLanguageModel extends Module {
  readonly hiddenSize: number;
  readonly vocabSize: number;
  /**
   * The factor that `embedTokens` multiplies embeddings by (Gemma: sqrt(hidden_size)); absent
   * means 1. The MultimodalModel multiplies injected features by it unless its option
   * `scaleInjectedFeatures` is false.
   */
  readonly embeddingScale?: number;
  /** input_ids int32 [B, T] -> [B, T, C], including any family-specific embedding scale. */
  embedTokens(inputIds: tf.Tensor): tf.Tensor;
  forward(inputs: LanguageModelInputs): LanguageModelOutput;
}
