import * as tf from "@tensorflow/tfjs";
import { customGradient } from "./custom-gradient";

/**
 * Selects rows of a 2-D table: table [V, C], indices int32 [N] -> [N, C].
 *
 * tf.gather's own gradient needs the UnsortedSegmentSum kernel, which the WASM backend lacks, so
 * this gradient scatters the rows back with scatterND (which sums repeated indices) into a dense
 * [V, C] tensor. A frozen table variable (`trainable` false) is kept out of the gradient.
 */
export function gatherRows(table: tf.Tensor, indices: tf.Tensor | Int32Array | number[]): tf.Tensor {
  const trainTable = !(table instanceof tf.Variable) || table.trainable;
  // The indices are copied to host memory because the gradient runs after the caller may have
  // disposed an index tensor (for example one made inside a tf.tidy).
  const values = indices instanceof tf.Tensor ? Int32Array.from(indices.dataSync()) : Int32Array.from(indices);
  const indexColumn = () => tf.tensor2d(values, [values.length, 1], "int32"); // [N, 1]
  if (!trainTable) return tf.tidy(() => tf.gather(table, indexColumn().reshape([-1])));
  return trainableGather(table, indexColumn);
}

function trainableGather(table: tf.Tensor, indexColumn: () => tf.Tensor): tf.Tensor {
  const shape = table.shape as [number, number];
  const op = customGradient((source: tf.Tensor) => ({
    value: tf.tidy(() => tf.gather(source, indexColumn().reshape([-1]))),
    gradFunc: (dy: tf.Tensor) => tf.tidy(() => tf.scatterND(indexColumn(), dy, shape)), // -> [V, C]
  }));
  return op(table);
}
