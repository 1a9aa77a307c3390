import { ConfigError } from "@mm/core";
import { describe, expect, it } from "vitest";
import { splitForEval } from "./eval-split";

const RECORDS = Array.from({ length: 20 }, (_, i) => `r${i}`);

describe("splitForEval", () => {
  it("holds out the fraction, keeping file order and losing no record", () => {
    const { train, evaluation } = splitForEval(RECORDS, 0.2, 4);
    expect(evaluation).toHaveLength(4);
    expect(train).toHaveLength(16);
    expect([...train, ...evaluation].sort()).toEqual([...RECORDS].sort());
    expect(evaluation).toEqual(RECORDS.filter((r) => evaluation.includes(r)));
  });

  it("gives the same split for the same seed and another for another seed", () => {
    expect(splitForEval(RECORDS, 0.25, 4)).toEqual(splitForEval(RECORDS, 0.25, 4));
    expect(splitForEval(RECORDS, 0.25, 4).evaluation).not.toEqual(splitForEval(RECORDS, 0.25, 5).evaluation);
  });

  it("holds out at least one record", () => {
    expect(splitForEval(["a", "b", "c"], 0.01, 0).evaluation).toHaveLength(1);
  });

  it("rejects a fraction that leaves no training record", () => {
    expect(() => splitForEval(["a", "b"], 0.9, 0)).toThrow(ConfigError);
    expect(() => splitForEval(["a", "b"], 0.9, 0)).toThrow(/^data.evalFraction 0.9 of 2 records holds out 2 and leaves no training record/);
  });
});
