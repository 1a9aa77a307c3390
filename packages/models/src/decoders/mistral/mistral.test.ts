import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readJson } from "@mm/core/testing";
import { describeFixtureParity, fixtureDirectory } from "../testing/fixture-suite";
import { readMistralSettings, type MistralConfig } from "./mistral";

const config = readJson<MistralConfig>(join(fixtureDirectory("mistral"), "config.json"));

describe("MistralForCausalLM", () => {
  // The fixture's window of 6 is shorter than its 12 tokens, so parity covers the sliding window.
  describeFixtureParity("mistral");

  it("puts sliding_window on every layer", () => {
    expect(readMistralSettings(config).slidingWindows).toEqual([6, 6]);
  });

  it("turns the window off for a null sliding_window", () => {
    expect(readMistralSettings({ ...config, sliding_window: null }).slidingWindows).toEqual([undefined, undefined]);
  });

  it("defaults to transformers' MistralConfig values", () => {
    const settings = readMistralSettings({ model_type: "mistral" });
    expect(settings.numKeyValueHeads).toBe(8);
    expect(settings.slidingWindows).toHaveLength(32);
    expect(settings.slidingWindows[0]).toBe(4096);
  });
});
