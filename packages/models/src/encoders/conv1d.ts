import * as tf from "@tensorflow/tfjs";
import { Module, ShapeError, isTrainable, linear, randomNormalTensor } from "@mm/core";

// Shape letters: B batch, L input length, M output length, K kernel size, I input channels, O output channels.

export interface Conv1dOptions {
  stride?: number;
  /** Zeros added at both ends of the length axis, as PyTorch's `padding`. */
  padding?: number;
}

/**
 * Takes rows k, k + s, ..., k + s·(M − 1) of padded: [B, L', I] -> [B, M, 1, I]. A slice of s·M rows
 * reshaped to [B, M, s, I] keeps the first row of each group, so only slice and reshape are
 * needed, and both differentiate on every backend (tfjs' strided slice has no gradient).
 */
function takeTap(padded: tf.Tensor, tap: number, stride: number, outLength: number): tf.Tensor {
  const [batch, , channels] = padded.shape;
  const window = padded.slice([0, tap, 0], [batch, stride * outLength, channels]); // [B, s·M, I]
  return window.reshape([batch, outLength, stride, channels]).slice([0, 0, 0, 0], [batch, outLength, 1, channels]);
}

/**
 * Computes a 1-D convolution as im2col and one matrix product, so it trains on WASM, which has no
 * conv filter gradient kernel (tfjs 4.22).
 *
 * x: float32 [B, L, I] (channels last); weight: [O, I, K] (PyTorch Conv1d layout); bias: [O] or
 * undefined. Returns [B, M, O] with M = ⌊(L + 2·padding − K) / stride⌋ + 1, equal to PyTorch's
 * `conv1d(x.transpose(1, 2), weight, bias, stride, padding).transpose(1, 2)`.
 */
export function conv1d(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor, { stride = 1, padding = 0 }: Conv1dOptions = {}): tf.Tensor {
  const [outChannels, inChannels, kernel] = weight.shape;
  const [batch, length, channels] = x.shape;
  if (x.rank !== 3 || channels !== inChannels) {
    throw new ShapeError(`conv1d: input has shape [${x.shape}] but the weight [${weight.shape}] expects [batch, length, ${inChannels}]`);
  }
  const outLength = Math.floor((length + 2 * padding - kernel) / stride) + 1;
  if (outLength < 1) throw new ShapeError(`conv1d: input length ${length} with padding ${padding} is shorter than the kernel size ${kernel}`);

  return tf.tidy(() => {
    // The last tap's slice may run past the right padding by up to stride − 1 rows of zeros it never reads.
    const rightPadding = Math.max(padding, kernel - 1 + stride * outLength - length - padding);
    const padded = tf.pad(x, [[0, 0], [padding, rightPadding], [0, 0]]); // [B, L', I]
    const taps = Array.from({ length: kernel }, (_, tap) => takeTap(padded, tap, stride, outLength)); // K × [B, M, 1, I]
    const columns = tf.concat(taps, 2).transpose([0, 1, 3, 2]).reshape([batch, outLength, inChannels * kernel]); // [B, M, I·K]
    // A reshape, not a transpose, of the weight: core's linear keeps a frozen weight only by
    // reference for its backward pass, and a reshape shares the variable's storage.
    const flatWeight = weight.reshape([outChannels, inChannels * kernel]); // [O, I·K]
    return linear(columns, flatWeight, bias, isTrainable(weight));
  });
}

/** PyTorch `Conv1d` weights: weight [O, I, K], bias [O]. */
export class Conv1d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    private readonly options: Conv1dOptions = {},
  ) {
    super();
    this.weight = this.addParameter("weight", randomNormalTensor([outChannels, inChannels, kernelSize], 0.02));
    this.bias = this.addParameter("bias", tf.zeros([outChannels]));
  }

  /** x: [B, L, I] (channels last) -> [B, M, O]. */
  forward(x: tf.Tensor): tf.Tensor {
    return conv1d(x, this.weight, this.bias, this.options);
  }
}
