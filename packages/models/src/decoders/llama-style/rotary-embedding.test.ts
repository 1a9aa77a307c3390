import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { assertClose, TEST_BACKENDS, useBackend } from "@mm/core/testing";
import { applyRotary, inverseFrequencies, rotaryTables } from "./rotary-embedding";

describe("inverseFrequencies", () => {
  it("are theta^(-2i / D)", () => {
    expect(Array.from(inverseFrequencies(4, 10000))).toEqual([1, Math.fround(0.01)]);
  });

  it("llama3 scaling keeps short wavelengths and divides long ones by the factor", () => {
    const scaling = { ropeType: "llama3" as const, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 };
    const plain = inverseFrequencies(128, 500000);
    const scaled = inverseFrequencies(128, 500000, scaling);
    const wavelength = (frequency: number) => (2 * Math.PI) / frequency;
    for (let i = 0; i < plain.length; i++) {
      if (wavelength(plain[i]) < 8192 / 4) expect(scaled[i]).toBe(plain[i]);
      else if (wavelength(plain[i]) > 8192 / 1) expect(scaled[i]).toBeCloseTo(plain[i] / 8, 12);
      else expect(scaled[i]).toBeGreaterThanOrEqual(plain[i] / 8 - 1e-12);
    }
    expect(scaled[0]).toBe(plain[0]);
    expect(scaled[63]).toBeCloseTo(plain[63] / 8, 12);
  });
});

describe.each(TEST_BACKENDS)("applyRotary on %s", (backend) => {
  it("rotates pairs (i, i + D/2) by position times frequency", async () => {
    await useBackend(backend);
    const x = [0.3, -1.2, 2.0, 0.7]; // one head, D = 4, the same vector at positions 0 and 1
    const input = tf.tensor4d([...x, ...x], [1, 1, 2, 4]);
    const { cos, sin } = rotaryTables([0, 1], 1, 2, inverseFrequencies(4, 10000));
    const rotated = applyRotary(input, cos, sin);
    const [a, b] = [1, 0.01]; // the angles at position 1
    const expected = [
      ...x,
      x[0] * Math.cos(a) - x[2] * Math.sin(a),
      x[1] * Math.cos(b) - x[3] * Math.sin(b),
      x[2] * Math.cos(a) + x[0] * Math.sin(a),
      x[3] * Math.cos(b) + x[1] * Math.sin(b),
    ];
    assertClose(rotated, expected, 1e-6, "rotated");
    tf.dispose([input, cos, sin, rotated]);
  });
});
