import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { countLeakedTensors, useBackend } from "../testing";
import { ModalEncoderModule } from "./modal-encoder-module";
import { MultimodalProjector } from "./projector";
import { IdentityEncoder, IdentityProjector } from "./test-support";

beforeAll(async () => {
  await useBackend("wasm");
});

describe("ModalEncoderModule", () => {
  it("requests hidden states for a callback that selects a layer", async () => {
    const encoder = new ModalEncoderModule({
      model: new IdentityEncoder(1, "pixel_values", 3),
      projector: new IdentityProjector(1),
      outputHiddenStates: true,
      postprocessModuleCallback: (_inputs, output) => output.hidden_states![1].slice([0, 1, 0], [-1, -1, -1]), // [K, N - 1, C]
      featuresPerInput: 2,
    });
    const pixelValues = tf.tensor3d([[[1], [2], [3]]]);
    const leaked = await countLeakedTensors(() => {
      const features = encoder.forward({ pixel_values: pixelValues });
      expect(features.arraySync()).toEqual([[[12], [13]]]);
      features.dispose();
    });
    expect(leaked).toBe(0);
    expect(encoder.featuresPerInput).toBe(2);
    pixelValues.dispose();
  });

  it("passes last_hidden_state without hidden states by default", () => {
    const encoder = new ModalEncoderModule({ model: new IdentityEncoder(1, "pixel_values", 3), projector: new IdentityProjector(1) });
    const pixelValues = tf.tensor3d([[[1], [2], [3]]]);
    const features = encoder.forward({ pixel_values: pixelValues });
    expect(features.arraySync()).toEqual([[[1], [2], [3]]]);
    expect(encoder.featuresPerInput).toBe(3);
    tf.dispose([features, pixelValues]);
  });

  it("has no featuresPerInput when the encoder's count varies", () => {
    const encoder = new ModalEncoderModule({ model: new IdentityEncoder(1), projector: new IdentityProjector(1) });
    expect(encoder.featuresPerInput).toBeUndefined();
  });
});

describe("MultimodalProjector", () => {
  it("builds bias-free layers and keeps the setting in its config", () => {
    const projector = new MultimodalProjector({ inFeatures: 4, outFeatures: 6, bias: false });
    expect(projector.namedParameters().map(([name, variable]) => [name, variable.shape])).toEqual([
      ["projection.in_proj.weight", [6, 4]],
      ["projection.out_proj.weight", [6, 6]],
    ]);
    expect(projector.toConfigJson()).toEqual({ in_features: 4, out_features: 6, projection_type: "mlp", activation: "gelu", bias: false });
    const reloaded = MultimodalProjector.fromConfigJson(projector.toConfigJson());
    expect(reloaded.config.bias).toBe(false);
    const withoutKey = MultimodalProjector.fromConfigJson({ in_features: 4, out_features: 6, projection_type: "linear", activation: "gelu" });
    expect(withoutKey.namedParameters().map(([name]) => name)).toEqual(["projection.linear.weight", "projection.linear.bias"]);
    projector.dispose();
    reloaded.dispose();
    withoutKey.dispose();
  });
});
