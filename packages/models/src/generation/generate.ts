// Shape letters: B batch, T prompt tokens, C hidden, V vocabulary.
import * as tf from "@tensorflow/tfjs";
import { InputError, ShapeError, type LanguageModelInputs, type LanguageModelOutput } from "@mm/core";
import type { KeyValueCache } from "../decoders/llama-style/kv-cache";
import { DecodingState, type PromptRows } from "./decoding-state";
import { resolveGenerationOptions, type GenerationOptions, type ResolvedGenerationOptions } from "./generation-options";

/** The prompt of a generate() call. The tensors stay the caller's to dispose. */
export interface GenerationInputs {
  /**
   * int32 [B, T]. When inputs_embeds is given too, the model reads only inputs_embeds, and these
   * ids only mark which tokens the repetition penalty applies to.
   */
  input_ids?: tf.Tensor;
  /**
   * float32 [B, T, C] for the first pass, e.g. text embeddings with injected image features.
   * They must include the model's embedding scale (see DecoderForCausalLM).
   */
  inputs_embeds?: tf.Tensor;
  /** [B, T]: 1 for prompt tokens, 0 for left padding. Absent: no padding. */
  attention_mask?: tf.Tensor;
}

export interface GenerationOutput {
  /** B rows of equal length: the new token ids, with pad_token_id after a row's eos. */
  newTokens: number[][];
  /** With output_scores, per step and row: V scores after the repetition penalty and the sampling filters. */
  scores?: Float32Array[][];
  /** With output_logits, per step and row: the model's V logits for the next token. */
  logits?: Float32Array[][];
}

/** The model interface that generate() calls; DecoderForCausalLM implements it. */
export interface GenerativeModel {
  readonly vocabSize: number;
  /** An empty key/value cache, which generate() disposes. */
  createCache(): KeyValueCache;
  forward(inputs: LanguageModelInputs, options: { cache: KeyValueCache; logitsToKeep: number }): LanguageModelOutput;
  /** The config.json contents, read for eos_token_id and pad_token_id. */
  toConfigJson(): Record<string, unknown>;
}

/**
 * Generates up to max_new_tokens tokens per prompt row with a key/value cache: one pass over the
 * prompt, then one pass per new token. A batch must be left-padded, so that every row's next token
 * goes right after its last prompt token. Decoding stops early once every row has produced an eos
 * token. Greedy decoding takes the argmax; with do_sample, tokens are drawn from a SeededRandom
 * (see GenerationOptions). Every tensor made here is disposed before it returns.
 * Example: `generate(model, { input_ids, attention_mask }, { max_new_tokens: 32 }).newTokens`.
 */
export function generate(model: GenerativeModel, inputs: GenerationInputs, options: GenerationOptions): GenerationOutput {
  const resolved = resolveGenerationOptions(options, model.toConfigJson(), model.vocabSize);
  const prompt = readPrompt(inputs, model.vocabSize);
  const cache = model.createCache();
  try {
    return decode(model, cache, inputs, new DecodingState(prompt, resolved), resolved);
  } finally {
    cache.dispose();
  }
}

function decode(model: GenerativeModel, cache: KeyValueCache, inputs: GenerationInputs, state: DecodingState, options: ResolvedGenerationOptions): GenerationOutput {
  const prefill: LanguageModelInputs = { attention_mask: inputs.attention_mask };
  if (inputs.inputs_embeds !== undefined) prefill.inputs_embeds = inputs.inputs_embeds;
  else prefill.input_ids = inputs.input_ids;

  state.advance(lastLogits(model, cache, prefill));
  for (let step = 1; step < options.maxNewTokens && !state.done; step++) {
    const stepInputs = state.nextInputs();
    try {
      state.advance(lastLogits(model, cache, stepInputs));
    } finally {
      tf.dispose(Object.values(stepInputs) as tf.Tensor[]);
    }
  }

  const output: GenerationOutput = { newTokens: state.newTokens };
  if (options.outputScores) output.scores = state.scores;
  if (options.outputLogits) output.logits = state.logits;
  return output;
}

/** Runs one cached pass and returns the logits of its last position, B·V values row-major. */
function lastLogits(model: GenerativeModel, cache: KeyValueCache, inputs: LanguageModelInputs): Float32Array {
  const { logits } = model.forward(inputs, { cache, logitsToKeep: 1 }); // [B, 1, V]
  try {
    return Float32Array.from(logits.dataSync());
  } finally {
    logits.dispose();
  }
}

/** Checks the prompt tensors and reads the mask and the prompt's token ids into arrays. */
function readPrompt(inputs: GenerationInputs, vocabSize: number): PromptRows {
  const { input_ids: inputIds, inputs_embeds: inputsEmbeds, attention_mask: attentionMask } = inputs;
  const main = inputsEmbeds ?? inputIds;
  if (main === undefined) throw new InputError("generate: pass input_ids or inputs_embeds as the prompt");
  if (main.rank !== (main === inputsEmbeds ? 3 : 2)) {
    throw new ShapeError(`generate: ${main === inputsEmbeds ? "inputs_embeds" : "input_ids"} is [${main.shape}] but must be [batch, sequence${main === inputsEmbeds ? ", hidden" : ""}]`);
  }
  const [batch, length] = main.shape;
  checkSameShape("input_ids", inputIds, batch, length);
  checkSameShape("attention_mask", attentionMask, batch, length);
  const mask = attentionMask === undefined ? undefined : Int32Array.from(attentionMask.dataSync());
  if (mask !== undefined) checkLeftPadding(mask, batch, length);
  return { batch, attentionMask: mask, present: presentIds(inputIds, mask, batch, vocabSize) };
}

function checkSameShape(name: string, tensor: tf.Tensor | undefined, batch: number, length: number): void {
  if (tensor === undefined) return;
  if (tensor.rank !== 2 || tensor.shape[0] !== batch || tensor.shape[1] !== length) {
    throw new ShapeError(`generate: ${name} is [${tensor.shape}] but the prompt is [${batch}, ${length}]; pass one value per prompt token`);
  }
}

/** New tokens follow each row's last column, so that column must be a real token in every row. */
function checkLeftPadding(mask: Int32Array, batch: number, length: number): void {
  for (let row = 0; row < batch; row++) {
    if (mask[row * length + length - 1] === 0) {
      throw new InputError(
        `generate: row ${row} of attention_mask ends with padding, but generation appends after the last column; pad prompts on the left`,
      );
    }
  }
}

/** Per row, V flags of the ids at attended prompt positions; all 0 without input_ids. */
function presentIds(inputIds: tf.Tensor | undefined, mask: Int32Array | undefined, batch: number, vocabSize: number): Uint8Array[] {
  const present = Array.from({ length: batch }, () => new Uint8Array(vocabSize));
  if (inputIds === undefined) return present;
  const ids = inputIds.dataSync();
  const length = ids.length / batch;
  // NOTE: transformers 4.40 also penalizes the pad id of left padding, because it reads every
  // column of input_ids; here padding positions (attention_mask 0) are skipped.
  ids.forEach((id, i) => {
    const inVocabulary = id >= 0 && id < vocabSize;
    if (inVocabulary && (mask === undefined || mask[i] !== 0)) present[Math.floor(i / length)][id] = 1;
  });
  return present;
}
