import * as tf from "@tensorflow/tfjs";
import { useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { AdamW } from "./adamw";

beforeAll(async () => {
  await useBackend("wasm");
});

describe("AdamW", () => {
  it("moves each weight by lr·sign(g) on the first steps of a constant gradient, after decoupled decay", () => {
    // With a constant gradient g, m̂ = g and v̂ = g² at every step, so the Adam update is
    // lr · g / (|g| + eps): about lr · sign(g).
    const weight = tf.variable(tf.tensor2d([[1, -2], [3, 0.5]]), true);
    const bias = tf.variable(tf.tensor1d([1, 1]), true);
    const optimizer = new AdamW(new Map<string, tf.Variable>([["w", weight], ["b", bias]]), { weightDecay: 0.1, eps: 1e-8 });
    const grads = { w: tf.tensor2d([[0.5, -0.25], [2, -1]]), b: tf.tensor1d([1, -1]) };
    const lr = 0.01;
    let expectedWeight = [1, -2, 3, 0.5];
    let expectedBias = [1, 1];
    for (let step = 0; step < 3; step++) {
      optimizer.step(grads, lr);
      expectedWeight = expectedWeight.map((p, i) => p * (1 - lr * 0.1) - lr * Math.sign([0.5, -0.25, 2, -1][i]));
      expectedBias = expectedBias.map((p, i) => p - lr * Math.sign([1, -1][i])); // rank 1: no decay
    }
    Array.from(weight.dataSync()).forEach((value, i) => expect(value).toBeCloseTo(expectedWeight[i], 6));
    Array.from(bias.dataSync()).forEach((value, i) => expect(value).toBeCloseTo(expectedBias[i], 6));
    tf.dispose([weight, bias, ...Object.values(grads)]);
    optimizer.dispose();
  });

  it("uses the configured betas and eps", () => {
    // Two steps on one scalar, written out: m₂ = β1·(1−β1)·g₁ + (1−β1)·g₂, v₂ likewise with β2 and g²,
    // then each step moves by lr·m̂/(√v̂ + eps) with m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ).
    const [beta1, beta2, eps, lr] = [0.5, 0.75, 0.1, 0.01];
    const weight = tf.variable(tf.tensor1d([1]), true);
    const optimizer = new AdamW(new Map([["w", weight]]), { beta1, beta2, eps, weightDecay: 0 });
    const [g1, g2] = [0.5, -2];
    let [m, v, p] = [0, 0, 1];
    for (const [t, g] of [[1, g1], [2, g2]]) {
      const gradient = tf.tensor1d([g]);
      optimizer.step({ w: gradient }, lr);
      gradient.dispose();
      m = beta1 * m + (1 - beta1) * g;
      v = beta2 * v + (1 - beta2) * g * g;
      p -= (lr * (m / (1 - beta1 ** t))) / (Math.sqrt(v / (1 - beta2 ** t)) + eps);
    }
    expect(weight.dataSync()[0]).toBeCloseTo(p, 6);
    expect(optimizer.hyperparameters()).toEqual({ beta1, beta2, eps, weightDecay: 0 });
    weight.dispose();
    optimizer.dispose();
  });

  it("keeps state only for parameters that received gradients", () => {
    const trained = tf.variable(tf.ones([2]), true);
    const frozen = tf.variable(tf.ones([2]), false);
    const optimizer = new AdamW(new Map([["trained", trained], ["frozen", frozen]]));
    const gradient = tf.ones([2]);
    optimizer.step({ trained: gradient }, 0.1);
    expect(optimizer.statePaths()).toEqual(["trained"]);
    expect([...optimizer.stateTensors().keys()]).toEqual(["exp_avg.trained", "exp_avg_sq.trained"]);
    expect(Array.from(frozen.dataSync())).toEqual([1, 1]);
    tf.dispose([trained, frozen, gradient]);
    optimizer.dispose();
  });

  it("creates no tensors per step once its state exists", () => {
    const weight = tf.variable(tf.ones([3, 3]), true);
    const optimizer = new AdamW(new Map([["w", weight]]));
    const gradient = tf.ones([3, 3]);
    optimizer.step({ w: gradient }, 0.1);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) optimizer.step({ w: gradient }, 0.1);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([weight, gradient]);
    optimizer.dispose();
  });

  it("resumes from saved state to the same weights as an uninterrupted run", () => {
    const run = (interrupt: boolean) => {
      const weight = tf.variable(tf.tensor1d([0.5, -0.5, 2]), true);
      let optimizer = new AdamW(new Map([["w", weight]]), { weightDecay: 0 });
      const gradients = [[1, 2, 3], [-1, 0.5, 2], [0.1, -3, 1], [2, 2, -2]].map((g) => tf.tensor1d(g));
      gradients.forEach((gradient, step) => {
        if (interrupt && step === 2) {
          const saved = new Map([...optimizer.stateTensors()].map(([name, tensor]) => [name, tensor.clone()]));
          const stepCount = optimizer.stepCount;
          optimizer.dispose();
          optimizer = new AdamW(new Map([["w", weight]]), { weightDecay: 0 });
          optimizer.loadState(saved, stepCount);
          tf.dispose([...saved.values()]);
        }
        optimizer.step({ w: gradient }, 0.05);
      });
      const values = Array.from(weight.dataSync());
      tf.dispose([weight, ...gradients]);
      optimizer.dispose();
      return values;
    };
    expect(run(true)).toEqual(run(false));
  });

  it("frees its state on dispose", () => {
    const weight = tf.variable(tf.ones([3, 3]), true);
    const gradient = tf.ones([3, 3]);
    const before = tf.memory().numTensors;
    const optimizer = new AdamW(new Map([["w", weight]]));
    optimizer.step({ w: gradient }, 0.1);
    const saved = new Map([...optimizer.stateTensors()].map(([name, tensor]) => [name, tensor.clone()]));
    optimizer.loadState(saved, optimizer.stepCount);
    tf.dispose([...saved.values()]);
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([weight, gradient]);
  });
});
