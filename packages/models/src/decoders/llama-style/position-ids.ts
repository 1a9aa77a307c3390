// Shape letters: B batch, S cached plus new tokens, T new tokens.
import type * as tf from "@tensorflow/tfjs";

/**
 * Computes rotary position ids from an attention mask, as transformers 4.40's generate() does
 * (prepare_inputs_for_generation): each token's position is the count of attended tokens before
 * it, cumsum(attention_mask) - 1, and padding gets 1. A left-padded row thus starts its real
 * tokens at position 0, as if it were alone.
 * attentionMask: [B, S] of 0/1 values. Returns the positions of the last `length` tokens, T of
 * them per row, as B·T int32 values row-major.
 */
export function positionIdsFromMask(attentionMask: tf.Tensor, length: number): Int32Array {
  const [batch, keyLength] = attentionMask.shape;
  const mask = attentionMask.dataSync();
  const positions = new Int32Array(batch * length);
  for (let b = 0; b < batch; b++) {
    let attended = 0;
    for (let j = 0; j < keyLength; j++) {
      const isToken = mask[b * keyLength + j] !== 0;
      if (isToken) attended++;
      const column = j - (keyLength - length);
      if (column >= 0) positions[b * length + column] = isToken ? attended - 1 : 1;
    }
  }
  return positions;
}
