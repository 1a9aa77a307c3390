import * as tf from "@tensorflow/tfjs";
import { ShapeError } from "../errors/errors";
import { isTrainable, linear } from "./linear";

/**
 * Cuts images into non-overlapping square patches, each flattened in (channel, row, column)
 * order, which is the order of a PyTorch conv weight [out, channels, p, p] flattened.
 *
 * pixelValues: [B, 3, H, W] float32 -> [B, (H/p)·(W/p), 3·p·p], patches in row-major order.
 * Only reshapes and transposes of rank ≤ 5, so it runs and differentiates on every backend.
 */
export function extractPatches(pixelValues: tf.Tensor, patchSize: number): tf.Tensor {
  const [batch, channels, height, width] = pixelValues.shape;
  if (height % patchSize !== 0 || width % patchSize !== 0) {
    throw new ShapeError(`image size ${height}x${width} is not a multiple of the patch size ${patchSize}`);
  }
  const rows = height / patchSize;
  const columns = width / patchSize;
  const grid = pixelValues.reshape([batch * channels, rows, patchSize, columns, patchSize]);
  const tiles = grid.transpose([0, 1, 3, 2, 4]); // [B·3, rows, columns, p, p]
  const perChannel = tiles.reshape([batch, channels, rows * columns, patchSize * patchSize]);
  const patches = perChannel.transpose([0, 2, 1, 3]); // [B, N, 3, p·p]
  return patches.reshape([batch, rows * columns, channels * patchSize * patchSize]);
}

/**
 * A convolution with kernel size = stride = patch size, computed as patches times a matrix, so no
 * conv filter gradient (missing on WASM) is needed.
 *
 * pixelValues: [B, 3, H, W]; weight: [C, 3, p, p] (PyTorch Conv2d layout); bias: [C] or undefined.
 * Returns [B, N, C] with N = (H/p)·(W/p) in row-major patch order, as PyTorch's
 * `conv(x).flatten(2).transpose(1, 2)` gives.
 */
export function patchEmbedding(pixelValues: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const [outChannels, inChannels, patchSize] = weight.shape;
  if (pixelValues.shape[1] !== inChannels) {
    throw new ShapeError(
      `pixel_values has ${pixelValues.shape[1]} channels but the patch embedding expects ${inChannels}; ` +
        `pass [batch, ${inChannels}, height, width]`,
    );
  }
  const patches = extractPatches(pixelValues, patchSize);
  const flatWeight = weight.reshape([outChannels, inChannels * patchSize * patchSize]); // [C, 3·p·p]
  return linear(patches, flatWeight, bias, isTrainable(weight));
}
