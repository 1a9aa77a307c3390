import * as tf from "@tensorflow/tfjs";
import { useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { clipGradNorm } from "./clip-grad-norm";

beforeAll(async () => {
  await useBackend("wasm");
});

describe("clipGradNorm", () => {
  it("scales gradients whose global norm exceeds the limit", () => {
    // Global norm of [3, 4] and [12] is 13.
    const { grads, norm } = clipGradNorm({ a: tf.tensor1d([3, 4]), b: tf.tensor1d([12]) }, 1);
    expect(norm).toBeCloseTo(13, 5);
    const scale = 1 / (13 + 1e-6);
    expect(Array.from(grads.a.dataSync())).toEqual([3, 4].map((v) => Math.fround(v * scale)));
    expect(Array.from(grads.b.dataSync())[0]).toBeCloseTo(12 * scale, 6);
    tf.dispose(Object.values(grads));
  });

  it("leaves gradients under the limit unchanged", () => {
    const a = tf.tensor1d([0.3, 0.4]);
    const { grads, norm } = clipGradNorm({ a }, 1);
    expect(norm).toBeCloseTo(0.5, 6);
    expect(grads.a).toBe(a);
    a.dispose();
  });
});
