// Shape letters: B batch, S tokens so far (prompt, padding included, plus new tokens), V vocabulary.
import * as tf from "@tensorflow/tfjs";
import type { LanguageModelInputs } from "@mm/core";
import type { ResolvedGenerationOptions } from "./generation-options";
import { chooseToken, processScores } from "./sampling";

/** The prompt as plain arrays: what decoding needs after the prefill pass. */
export interface PromptRows {
  batch: number;
  /** B·S attention mask values, row-major; undefined when the prompt has no padding mask. */
  attentionMask: Int32Array | undefined;
  /** Per row, V flags of the token ids in the prompt's attended positions (all 0 for inputs_embeds alone). */
  present: Uint8Array[];
}

/**
 * The per-row bookkeeping of one generate() call: tokens so far, which rows have ended, the ids
 * the repetition penalty applies to, and the attention mask that grows by one column per step.
 */
export class DecodingState {
  /** Per row, the new token ids; pad_token_id after the row's eos. */
  readonly newTokens: number[][];
  /** Per step and row, the processed scores (with output_scores). */
  readonly scores: Float32Array[][] = [];
  /** Per step and row, the raw logits (with output_logits). */
  readonly logits: Float32Array[][] = [];
  private readonly finished: boolean[];
  private attentionMask: Int32Array | undefined;

  constructor(
    private readonly prompt: PromptRows,
    private readonly options: ResolvedGenerationOptions,
  ) {
    this.newTokens = Array.from({ length: prompt.batch }, () => []);
    this.finished = new Array<boolean>(prompt.batch).fill(false);
    this.attentionMask = prompt.attentionMask;
  }

  /** True once every row has produced an eos token. */
  get done(): boolean {
    return this.finished.every(Boolean);
  }

  /**
   * Chooses and records each row's next token from the last position's logits, B·V values
   * row-major. Rows that already ended get pad_token_id, as in transformers.
   */
  advance(logits: Float32Array): void {
    const vocabSize = logits.length / this.prompt.batch;
    const stepScores: Float32Array[] = [];
    const stepLogits: Float32Array[] = [];
    for (let row = 0; row < this.prompt.batch; row++) {
      const rowLogits = logits.slice(row * vocabSize, (row + 1) * vocabSize);
      const scores = processScores(rowLogits, this.prompt.present[row], this.options);
      const token = chooseToken(scores, this.options);
      this.record(row, token);
      if (this.options.outputScores) stepScores.push(scores);
      if (this.options.outputLogits) stepLogits.push(rowLogits);
    }
    if (this.options.outputScores) this.scores.push(stepScores);
    if (this.options.outputLogits) this.logits.push(stepLogits);
  }

  /**
   * Builds the next pass's inputs: the tokens just chosen, int32 [B, 1], and, when the prompt had
   * a mask, the mask grown by a column of ones to [B, S + 1]. The caller disposes the tensors.
   */
  nextInputs(): LanguageModelInputs {
    const { batch } = this.prompt;
    const lastTokens = this.newTokens.map((tokens) => tokens[tokens.length - 1]);
    const inputs: LanguageModelInputs = { input_ids: tf.tensor2d(lastTokens, [batch, 1], "int32") };
    if (this.attentionMask === undefined) return inputs;
    this.attentionMask = appendOnesColumn(this.attentionMask, batch);
    inputs.attention_mask = tf.tensor2d(this.attentionMask, [batch, this.attentionMask.length / batch], "int32");
    return inputs;
  }

  private record(row: number, token: number): void {
    if (this.finished[row]) {
      this.newTokens[row].push(this.options.padTokenId);
      return;
    }
    this.newTokens[row].push(token);
    this.prompt.present[row][token] = 1;
    if (this.options.eosTokenIds.has(token)) this.finished[row] = true;
  }
}

/** [B, S] row-major -> [B, S + 1] with 1 in the new last column. */
function appendOnesColumn(mask: Int32Array, batch: number): Int32Array {
  const length = mask.length / batch;
  const grown = new Int32Array(batch * (length + 1)).fill(1);
  for (let row = 0; row < batch; row++) grown.set(mask.subarray(row * length, (row + 1) * length), row * (length + 1));
  return grown;
}
