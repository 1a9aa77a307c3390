import * as tf from "@tensorflow/tfjs";
import { maskModalityIds, type MultimodalBatch, type MultimodalModel } from "@mm/core";
import { generate, type GenerationOutput, type GenerativeModel } from "./generate";
import type { GenerationOptions } from "./generation-options";

/**
 * Generates text for a multimodal prompt: each encoder runs once, its features are injected into
 * the prompt embeddings, and the LLM then decodes with its key/value cache (see generate()).
 * The batch must be left-padded when it has several rows of different lengths. The caller keeps
 * ownership of the batch tensors.
 */
export function generateMultimodal(model: MultimodalModel, batch: MultimodalBatch, options: GenerationOptions): GenerationOutput {
  const inputsEmbeds = model.embedInputs(batch); // [B, T, C], features injected
  // The modality ids lie past the vocabulary; the ids passed along only serve the repetition penalty.
  const textIds = tf.tidy(() => tf.tensor(maskModalityIds(batch.input_ids.dataSync() as Int32Array, Object.values(model.modalityTokenIds)), batch.input_ids.shape, "int32"));
  try {
    return generate(model.languageModel as unknown as GenerativeModel, { input_ids: textIds, inputs_embeds: inputsEmbeds, attention_mask: batch.attention_mask }, options);
  } finally {
    tf.dispose([inputsEmbeds, textIds]);
  }
}
