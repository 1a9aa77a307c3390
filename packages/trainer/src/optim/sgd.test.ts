import * as tf from "@tensorflow/tfjs";
import { useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { SGD } from "./sgd";

beforeAll(async () => {
  await useBackend("wasm");
});

const GRADIENT = [0.5, -0.25, 2, -1];

describe("SGD", () => {
  it("moves by lr·g per step without momentum and keeps no state", () => {
    const weight = tf.variable(tf.tensor2d([[1, -2], [3, 0.5]]), true);
    const optimizer = new SGD(new Map([["w", weight]]));
    const gradient = tf.tensor2d(GRADIENT, [2, 2]);
    for (let step = 0; step < 3; step++) optimizer.step({ w: gradient }, 0.1);
    const expected = [1, -2, 3, 0.5].map((p, i) => p - 3 * 0.1 * GRADIENT[i]);
    Array.from(weight.dataSync()).forEach((value, i) => expect(value).toBeCloseTo(expected[i], 6));
    expect(optimizer.statePaths()).toEqual([]);
    expect(optimizer.stepCount).toBe(3);
    tf.dispose([weight, gradient]);
    optimizer.dispose();
  });

  it("accumulates momentum as torch.optim.SGD does", () => {
    // With a constant gradient g and b₁ = g, bₜ = g·(1 − μᵗ)/(1 − μ), so after T steps
    // p = p₀ − lr·g·Σₜ (1 − μᵗ)/(1 − μ).
    const weight = tf.variable(tf.tensor1d([1, -2, 3, 0.5]), true);
    const optimizer = new SGD(new Map([["w", weight]]), { momentum: 0.9 });
    const gradient = tf.tensor1d(GRADIENT);
    for (let step = 0; step < 4; step++) optimizer.step({ w: gradient }, 0.01);
    const factor = [1, 2, 3, 4].reduce((sum, t) => sum + (1 - 0.9 ** t) / (1 - 0.9), 0);
    const expected = [1, -2, 3, 0.5].map((p, i) => p - 0.01 * GRADIENT[i] * factor);
    Array.from(weight.dataSync()).forEach((value, i) => expect(value).toBeCloseTo(expected[i], 6));
    expect([...optimizer.stateTensors().keys()]).toEqual(["momentum_buffer.w"]);
    const buffer = Array.from(optimizer.stateTensors().get("momentum_buffer.w")!.dataSync());
    buffer.forEach((value, i) => expect(value).toBeCloseTo((GRADIENT[i] * (1 - 0.9 ** 4)) / (1 - 0.9), 5));
    tf.dispose([weight, gradient]);
    optimizer.dispose();
  });

  it("adds weight decay to the gradient of matrices only", () => {
    // p ← p − lr·(g + wd·p) for the rank-2 weight; the rank-1 bias gets no decay.
    const weight = tf.variable(tf.tensor2d([[1, -2]]), true);
    const bias = tf.variable(tf.tensor1d([1, -2]), true);
    const optimizer = new SGD(new Map<string, tf.Variable>([["w", weight], ["b", bias]]), { weightDecay: 0.5 });
    const gradW = tf.tensor2d([[0.5, 0.5]]);
    const gradB = tf.tensor1d([0.5, 0.5]);
    optimizer.step({ w: gradW, b: gradB }, 0.1);
    const expectedWeight = [1 - 0.1 * (0.5 + 0.5 * 1), -2 - 0.1 * (0.5 + 0.5 * -2)];
    Array.from(weight.dataSync()).forEach((value, i) => expect(value).toBeCloseTo(expectedWeight[i], 6));
    Array.from(bias.dataSync()).forEach((value, i) => expect(value).toBeCloseTo([1 - 0.05, -2 - 0.05][i], 6));
    tf.dispose([weight, bias, gradW, gradB]);
    optimizer.dispose();
  });

  it("resumes from saved state to the same weights as an uninterrupted run", () => {
    const run = (interrupt: boolean) => {
      const weight = tf.variable(tf.tensor1d([0.5, -0.5, 2]), true);
      let optimizer = new SGD(new Map([["w", weight]]), { momentum: 0.8 });
      const gradients = [[1, 2, 3], [-1, 0.5, 2], [0.1, -3, 1], [2, 2, -2]].map((g) => tf.tensor1d(g));
      gradients.forEach((gradient, step) => {
        if (interrupt && step === 2) {
          const saved = new Map([...optimizer.stateTensors()].map(([name, tensor]) => [name, tensor.clone()]));
          const stepCount = optimizer.stepCount;
          optimizer.dispose();
          optimizer = new SGD(new Map([["w", weight]]), { momentum: 0.8 });
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

  it("rejects state for a parameter of another shape", () => {
    const weight = tf.variable(tf.zeros([2]), true);
    const optimizer = new SGD(new Map([["w", weight]]), { momentum: 0.9 });
    const wrong = tf.zeros([3]);
    expect(() => optimizer.loadState(new Map([["momentum_buffer.w", wrong]]), 1)).toThrow(
      /^optimizer state "momentum_buffer.w" is \[3\] but the parameter is \[2\]/,
    );
    expect(() => optimizer.loadState(new Map([["momentum_buffer.v", wrong]]), 1)).toThrow(/^sgd: no parameter named "v"/);
    tf.dispose([weight, wrong]);
    optimizer.dispose();
  });

  it("frees its state on dispose", () => {
    const weight = tf.variable(tf.ones([3, 3]), true);
    const gradient = tf.ones([3, 3]);
    const before = tf.memory().numTensors;
    const optimizer = new SGD(new Map([["w", weight]]), { momentum: 0.9 });
    optimizer.step({ w: gradient }, 0.1);
    const saved = new Map([...optimizer.stateTensors()].map(([name, tensor]) => [name, tensor.clone()]));
    optimizer.loadState(saved, optimizer.stepCount);
    tf.dispose([...saved.values()]);
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([weight, gradient]);
  });
});
