import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readJson } from "@mm/core/testing";
import { describeFixtureParity, fixtureDirectory } from "../testing/fixture-suite";
import { Qwen2ForCausalLM, readQwen2Settings, type Qwen2Config } from "./qwen2";

const config = readJson<Qwen2Config>(join(fixtureDirectory("qwen2"), "config.json"));

describe("Qwen2ForCausalLM", () => {
  describeFixtureParity("qwen2");

  it("has biases on q_proj, k_proj and v_proj only", () => {
    const model = new Qwen2ForCausalLM({ ...config, num_hidden_layers: 1 });
    const biases = model.namedParameters().map(([name]) => name).filter((name) => name.endsWith(".bias"));
    expect(biases).toEqual(["q_proj", "k_proj", "v_proj"].map((p) => `model.layers.0.self_attn.${p}.bias`));
    model.dispose();
  });

  it("uses no sliding window unless use_sliding_window is set", () => {
    expect(readQwen2Settings(config).slidingWindows).toEqual([undefined, undefined]);
  });

  it("slides from max_window_layers on when use_sliding_window is set", () => {
    const settings = readQwen2Settings({ ...config, num_hidden_layers: 3, use_sliding_window: true, sliding_window: 5, max_window_layers: 1 });
    expect(settings.slidingWindows).toEqual([undefined, 5, 5]);
  });

  it("follows layer_types when given", () => {
    const layerTypes = ["sliding_attention", "full_attention"];
    const settings = readQwen2Settings({ ...config, use_sliding_window: true, sliding_window: 5, layer_types: layerTypes });
    expect(settings.slidingWindows).toEqual([5, undefined]);
    expect(() => readQwen2Settings({ ...config, use_sliding_window: true, layer_types: ["full_attention"] })).toThrow(
      /"layer_types" has 1 entries but num_hidden_layers is 2/,
    );
  });
});
