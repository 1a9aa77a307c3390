import * as tf from "@tensorflow/tfjs";
import { customGradient } from "./custom-gradient";
import { ShapeError } from "../errors/errors";
import { gatherRows } from "./gather-rows";

/** The label value that marks a position as not trained on, as in PyTorch and transformers. */
export const IGNORE_INDEX = -100;

/**
 * Builds next-token targets: position t is trained to predict labels[t + 1]; the last position of
 * each row, and every position whose next label is -100, get -100.
 * labels: int32 values of a [B, T] batch in row-major order.
 */
export function shiftLabels(labels: Int32Array, batch: number, length: number): Int32Array {
  const targets = new Int32Array(batch * length).fill(IGNORE_INDEX);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t + 1 < length; t++) targets[b * length + t] = labels[b * length + t + 1];
  }
  return targets;
}

/** Counts the targets that are not -100 after the shift, the default loss normaliser. */
export function countTrainedTokens(labels: Int32Array, batch: number, length: number): number {
  let count = 0;
  for (let b = 0; b < batch; b++) {
    for (let t = 1; t < length; t++) if (labels[b * length + t] !== IGNORE_INDEX) count++;
  }
  return count;
}

export interface CrossEntropyOptions {
  /**
   * Divides the summed loss by this count instead of this batch's own trained-token count; the
   * trainer passes the count over all micro-batches of an optimizer step.
   */
  normalizer?: number;
}

/**
 * Causal language-model loss: the shift to next-token targets happens here, positions labelled
 * -100 are ignored, and the sum is divided by the number of trained targets (as transformers'
 * `ForCausalLMLoss` with mean reduction does).
 *
 * logits: [B, T, V] float32; labels: [B, T] int32 (a tensor or its row-major values).
 * Returns a float32 scalar. With no trained target the loss is 0.
 * The gradient is written out (softmax minus one-hot, masked, scaled) so backward allocates one
 * [B·T, V] tensor and needs no gather gradient.
 */
export function causalLmLoss(logits: tf.Tensor, labels: tf.Tensor | Int32Array, options: CrossEntropyOptions = {}): tf.Tensor {
  const [batch, length, vocab] = logits.shape;
  const labelValues = labels instanceof tf.Tensor ? (labels.dataSync() as Int32Array) : labels;
  if (labelValues.length !== batch * length) {
    throw new ShapeError(`labels have ${labelValues.length} values but logits are [${logits.shape}]; labels must be [${batch}, ${length}]`);
  }
  const targets = shiftLabels(labelValues, batch, length);
  const normalizer = options.normalizer ?? countTrainedTokens(labelValues, batch, length);
  // The tidy frees the reshaped view, which would otherwise outlive a call made outside one.
  return tf.tidy(() => tokenCrossEntropy(logits.reshape([batch * length, vocab]), targets, Math.max(normalizer, 1)));
}

/**
 * The causal language-model loss computed from hidden states, running the LM head only at the K
 * positions that have a trained next-token target (where the shifted label is not -100). In
 * instruction tuning most positions are prompt or image placeholders, so this skips most of the
 * [B·T, C] x [C, V] head product and its gradient. The loss equals
 * `causalLmLoss(head(hidden), labels)`.
 *
 * hidden: [B, T, C]; labels: [B, T] int32; head: [K, C] -> [K, V].
 * Returns logits [1, K, V] (the trained positions in row-major order) and the scalar loss.
 */
export function causalLmLossAtTrainedPositions(
  hidden: tf.Tensor,
  labels: tf.Tensor | Int32Array,
  head: (rows: tf.Tensor) => tf.Tensor,
  options: CrossEntropyOptions = {},
): { logits: tf.Tensor; loss: tf.Tensor } {
  const [batch, length, hiddenSize] = hidden.shape;
  const labelValues = labels instanceof tf.Tensor ? (labels.dataSync() as Int32Array) : labels;
  if (labelValues.length !== batch * length) {
    throw new ShapeError(`labels have ${labelValues.length} values but the hidden states are [${hidden.shape}]; labels must be [${batch}, ${length}]`);
  }
  const targets = shiftLabels(labelValues, batch, length);
  const positions = [...targets.keys()].filter((i) => targets[i] !== IGNORE_INDEX);
  const normalizer = Math.max(options.normalizer ?? positions.length, 1);
  // The tidy frees the reshaped and gathered rows, which would otherwise outlive a call made
  // outside one.
  return tf.tidy(() => {
    const flat = hidden.reshape([batch * length, hiddenSize]); // [B·T, C]
    if (positions.length === 0) {
      const logits = head(flat); // [B·T, V]
      return { logits: logits.expandDims(0), loss: tokenCrossEntropy(logits, targets, normalizer) };
    }
    const logits = head(gatherRows(flat, positions)); // [K, V]
    const loss = tokenCrossEntropy(logits, Int32Array.from(positions, (i) => targets[i]), normalizer);
    return { logits: logits.expandDims(0), loss };
  });
}

/**
 * Sum over rows of -log softmax(logits)[target], divided by `normalizer`; rows with target -100
 * are skipped. logits: [N, V]; targets: N values.
 *
 * The loss is read from the softmax at the targets, and the gradient reuses that softmax, so one
 * softmax pass serves both. On WASM this avoids log-sum-exp, because tfjs 4.22's Exp kernel took
 * 100 ms on [512, 32000] where its Softmax kernel took 20 ms (2 threads, 2 cores).
 */
export function tokenCrossEntropy(logits: tf.Tensor, targets: Int32Array, normalizer: number): tf.Tensor {
  const [rows, vocab] = logits.shape;
  const trained: number[] = [];
  for (let i = 0; i < rows; i++) {
    const target = targets[i];
    if (target === IGNORE_INDEX) continue;
    if (target < 0 || target >= vocab) {
      throw new ShapeError(`label ${target} at flattened position ${i} is outside the vocabulary of ${vocab} tokens (or -100 to ignore)`);
    }
    trained.push(i);
  }
  const pickIndices = Int32Array.from(trained.flatMap((i) => [i, targets[i]])); // [K, 2]
  const rowMask = new Float32Array(rows);
  for (const i of trained) rowMask[i] = 1 / normalizer;

  const op = customGradient((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const value = tf.tidy(() => {
      // tfjs keeps its own reference to a saved tensor (and saves nothing without a gradient
      // tape), so the softmax can be freed with the rest of this scope.
      const probabilities = tf.softmax(x); // [N, V]
      save([probabilities]);
      if (trained.length === 0) return tf.scalar(0);
      const indices = tf.tensor2d(pickIndices, [trained.length, 2], "int32");
      const picked = tf.gatherND(probabilities, indices); // [K]
      if (picked.dataSync().some((p) => p < MIN_ACCURATE_PROBABILITY)) {
        // A target this unlikely has a probability that lost precision or underflowed to 0, which
        // would make the loss infinite, so -log p is computed as log-sum-exp minus the target logit.
        const logSumExp = tf.logSumExp(x, -1); // [N]
        return tf.sub(tf.sum(tf.mul(logSumExp, tf.tensor1d(rowMask))), tf.div(tf.sum(tf.gatherND(x, indices)), normalizer));
      }
      return tf.div(tf.neg(tf.sum(tf.log(picked))), normalizer);
    });
    const gradFunc = (dy: tf.Tensor, [savedProbabilities]: tf.Tensor[]) =>
      tf.tidy(() => {
        const scaled = tf.mul(savedProbabilities, tf.tensor2d(rowMask, [rows, 1]));
        if (trained.length === 0) return tf.mul(scaled, dy);
        const oneHot = tf.scatterND(
          tf.tensor2d(pickIndices, [trained.length, 2], "int32"),
          tf.fill([trained.length], 1 / normalizer),
          [rows, vocab],
        );
        return tf.mul(tf.sub(scaled, oneHot), dy);
      });
    return { value, gradFunc };
  });
  return op(logits);
}

/**
 * The probability below which -log p comes from log-sum-exp instead. float32 numbers below about
 * 1.2e-38 are subnormal, with fewer significant bits, and the softmax rounds the smallest to 0.
 * 1e-30 leaves a margin. It means a loss term above 69, which is rare outside a diverging run.
 */
const MIN_ACCURATE_PROBABILITY = 1e-30;
