import { useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { createModelFromConfig } from "../pretrained/registry";
import { SiglipVisionModel } from "./index";
import { describeEncoderFixture } from "./encoder-suite";
import { Fixture } from "./encoder-test-support";

describeEncoderFixture({
  title: "SiglipVisionModel",
  fixture: "siglip_vision",
  inputKey: "pixel_values",
  lastHiddenStateKey: "last_hidden_state",
  hiddenStatesKey: "hidden_states",
  hasPooler: true,
  wrongInputShape: [2, 1, 32, 32],
  wrongInputMessage: /SiglipVisionModel: pixel_values has shape \[2,1,32,32\] but the model expects \[batch, 3, 32, 32\]/,
});

describe("SiglipVisionModel", () => {
  beforeAll(async () => {
    await useBackend("wasm");
  });

  it("reports its sizes", () => {
    const model = new Fixture("siglip_vision").load<SiglipVisionModel>();
    expect(model).toBeInstanceOf(SiglipVisionModel);
    expect(model.hiddenSize).toBe(32);
    expect(model.numPatches).toBe(16);
    expect(model.numPositions).toBe(16);
    expect(model.numFeatures).toBe(16);
    model.dispose();
  });

  it("builds no head when vision_use_head is false", () => {
    const config = { model_type: "siglip", vision_config: { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, image_size: 16, patch_size: 8, vision_use_head: false } };
    const model = createModelFromConfig(config) as SiglipVisionModel;
    const names = model.namedParameters().map(([name]) => name);
    expect(names.some((name) => name.includes(".head."))).toBe(false);
    expect(names).toContain("vision_model.post_layernorm.weight");
    model.dispose();
  });
});
