import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { toyTraining } from "../test-support/toy-task";
import { createOptimizer } from "./create-optimizer";

describe("createOptimizer", () => {
  const parameters = new Map<string, tf.Variable>();

  it("builds AdamW with the config's betas, eps and weight decay", () => {
    const optimizer = createOptimizer(parameters, toyTraining({ adamBeta1: 0.8, adamBeta2: 0.95, adamEpsilon: 1e-6, weightDecay: 0.1 }));
    expect(optimizer.name).toBe("adamw");
    expect(optimizer.hyperparameters()).toEqual({ beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1 });
  });

  it("fills AdamW defaults as torch.optim.AdamW, except weight decay from the config", () => {
    expect(createOptimizer(parameters, toyTraining()).hyperparameters()).toEqual({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
  });

  it("builds SGD with the config's momentum", () => {
    const optimizer = createOptimizer(parameters, toyTraining({ optimizer: "sgd", momentum: 0.9, weightDecay: 0.01 }));
    expect(optimizer.name).toBe("sgd");
    expect(optimizer.hyperparameters()).toEqual({ momentum: 0.9, weightDecay: 0.01 });
  });
});
