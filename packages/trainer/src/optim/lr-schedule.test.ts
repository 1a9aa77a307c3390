import { describe, expect, it } from "vitest";
import { learningRateAt } from "./lr-schedule";

const base = { learningRate: 1, warmupSteps: 10, totalSteps: 110 };

describe("learningRateAt", () => {
  it("warms up linearly from 0", () => {
    expect([0, 5, 10].map((step) => learningRateAt(step, { ...base, name: "constant" }))).toEqual([0, 0.5, 1]);
  });

  it("decays linearly to 0 at the last step", () => {
    expect([10, 60, 110].map((step) => learningRateAt(step, { ...base, name: "linear" }))).toEqual([1, 0.5, 0]);
  });

  it("follows a half cosine after warmup", () => {
    const values = [10, 35, 60, 110].map((step) => learningRateAt(step, { ...base, name: "cosine" }));
    expect(values[0]).toBe(1);
    expect(values[1]).toBeCloseTo((1 + Math.cos(Math.PI / 4)) / 2, 12);
    expect(values[2]).toBeCloseTo(0.5, 12);
    expect(values[3]).toBeCloseTo(0, 12);
  });
});
