import { useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { ViTModel } from "./index";
import { describeEncoderFixture } from "./encoder-suite";
import { Fixture } from "./encoder-test-support";

describeEncoderFixture({
  title: "ViTModel",
  fixture: "vit",
  inputKey: "pixel_values",
  lastHiddenStateKey: "last_hidden_state",
  hiddenStatesKey: "hidden_states",
  hasPooler: true,
  wrongInputShape: [2, 3, 32],
  wrongInputMessage: /ViTModel: pixel_values has shape \[2,3,32\] but the model expects \[batch, 3, 32, 32\]/,
});

describe("ViTModel", () => {
  beforeAll(async () => {
    await useBackend("wasm");
  });

  it("reports its sizes and config", () => {
    const model = new Fixture("vit").load<ViTModel>();
    expect(model).toBeInstanceOf(ViTModel);
    expect(model.hiddenSize).toBe(32);
    expect(model.numPositions).toBe(17);
    expect(model.numFeatures).toBe(17);
    expect(model.toConfigJson()).toMatchObject({ model_type: "vit", architectures: ["ViTModel"], qkv_bias: true, layer_norm_eps: 1e-12 });
    model.dispose();
  });
});
