// Shape letters: B batch, T sequence.
import * as tf from "@tensorflow/tfjs";
import { ShapeError } from "@mm/core";

/**
 * The score added at masked positions: torch.finfo(float32).min, as transformers uses. A row whose
 * keys are all masked (a query on left padding) then contains equal scores everywhere, so softmax
 * spreads its weight evenly over all T keys instead of producing NaN, as transformers' eager
 * attention does.
 */
export const MASKED_SCORE = -3.4028234663852886e38;

/**
 * Builds the additive attention bias: 0 where query i may attend key j, MASKED_SCORE elsewhere.
 * Keys are the P cached tokens followed by the T new ones, so query i sits at position P + i.
 * Query i attends key j when j <= P + i, when attention_mask[b, j] is not 0, and, if a window is
 * set, when P + i - j <= slidingWindow. That is transformers 4.40's rule: a window of W keeps
 * W + 1 keys.
 * NOTE: later transformers (masking_utils.sliding_window_overlay) keep only W keys, j > i - W.
 * attentionMask: [B, P + T] values (1 attend, 0 padding) or undefined for no padding.
 * pastLength: P, the tokens already in the key/value cache (0 without a cache).
 * Returns [1, 1, T, P + T] without padding, else [B, 1, T, P + T].
 */
export function attentionBias(
  attentionMask: tf.Tensor | undefined,
  batch: number,
  length: number,
  slidingWindow?: number,
  pastLength = 0,
): tf.Tensor {
  return tf.tidy(() => {
    const keyLength = pastLength + length;
    const causal = tf.tensor4d(causalBias(length, pastLength, slidingWindow), [1, 1, length, keyLength]);
    const padding = paddingBias(attentionMask, batch, length, pastLength);
    if (padding === undefined) return causal;
    return tf.minimum(causal, tf.tensor4d(padding, [batch, 1, 1, keyLength])); // [B, 1, T, P + T]
  });
}

/** [T, P + T] row-major: 0 where key j is visible to query i, MASKED_SCORE elsewhere. */
function causalBias(length: number, pastLength: number, slidingWindow: number | undefined): Float32Array {
  const keyLength = pastLength + length;
  const bias = new Float32Array(length * keyLength).fill(MASKED_SCORE);
  for (let i = 0; i < length; i++) {
    const position = pastLength + i;
    const first = slidingWindow === undefined ? 0 : Math.max(0, position - slidingWindow);
    bias.fill(0, i * keyLength + first, i * keyLength + position + 1);
  }
  return bias;
}

/** [B, P + T] row-major: MASKED_SCORE at padding keys; undefined when nothing is padded. */
function paddingBias(attentionMask: tf.Tensor | undefined, batch: number, length: number, pastLength: number): Float32Array | undefined {
  if (attentionMask === undefined) return undefined;
  if (attentionMask.rank !== 2 || attentionMask.shape[0] !== batch || attentionMask.shape[1] !== pastLength + length) {
    const cached = pastLength === 0 ? "" : ` after ${pastLength} cached tokens`;
    const expected = pastLength === 0 ? "one 0/1 value per token" : `[${batch}, ${pastLength + length}]: one 0/1 value per cached and new token`;
    throw new ShapeError(`attention_mask is [${attentionMask.shape}] but the inputs are [${batch}, ${length}]${cached}; pass ${expected}`);
  }
  const values = attentionMask.dataSync();
  if (values.every((value) => value !== 0)) return undefined;
  return Float32Array.from(values, (value) => (value === 0 ? MASKED_SCORE : 0));
}
