// Child process of wasm-threads.test.ts. Starts the WASM backend with the MM_WASM_THREADS of its
// environment, computes a matMul, a softmax and their gradients on fixed inputs, and prints the
// backend report and the results as one JSON line. Uses the built package, so run tsup first.
import * as tf from "@tensorflow/tfjs";
import { initBackend, matMul } from "../dist/index.js";

if (process.env.FAIL_THREADED_INSTANTIATION === "1") {
  // The threaded loader instantiates its module with this constructor; tfjs's single-threaded
  // loader uses WebAssembly.instantiate, so only the threaded start fails.
  WebAssembly.Instance = function () {
    throw new Error("instantiation failed on purpose");
  };
}

const report = await initBackend("wasm");

/** Fixed values in [-1, 1] that differ in every element. */
function fixedValues(count, phase) {
  return Float32Array.from({ length: count }, (_, i) => Math.sin(0.37 * i + phase));
}

const x = tf.tensor2d(fixedValues(96 * 320, 0), [96, 320]);
const w = tf.tensor2d(fixedValues(320 * 256, 1), [320, 256]);
const v = tf.tensor2d(fixedValues(256 * 320, 2), [256, 320]);
const loss = (input, weight) => tf.softmax(matMul(input, weight)).mul(tf.range(0, 256)).sum();
const [gradX, gradW] = tf.grads(loss)([x, w]);

const results = {
  product: matMul(x, w),
  transposedProduct: tf.matMul(x, v, false, true),
  gradX,
  gradW,
};
const output = { wasm: report.wasm };
for (const [name, tensor] of Object.entries(results)) output[name] = Array.from(tensor.dataSync());
console.log(JSON.stringify(output));
