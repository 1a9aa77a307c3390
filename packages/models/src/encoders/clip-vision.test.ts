import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { readTensors, toWriteEntries, writeSafetensors } from "@mm/core";
import { assertClose, useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { loadPretrained } from "../pretrained/load-save";
import { CLIPVisionModel } from "./index";
import { describeEncoderFixture } from "./encoder-suite";
import { Fixture, disposeOutput } from "./encoder-test-support";

describeEncoderFixture({
  title: "CLIPVisionModel",
  fixture: "clip_vision",
  inputKey: "pixel_values",
  lastHiddenStateKey: "last_hidden_state",
  hiddenStatesKey: "hidden_states",
  hasPooler: true,
  wrongInputShape: [1, 3, 16, 16],
  wrongInputMessage: /CLIPVisionModel: pixel_values has shape \[1,3,16,16\] but the model expects \[batch, 3, 32, 32\]/,
});

const fixture = new Fixture("clip_vision");

/** Writes a two-tower `clip` folder: the fixture's weights and config as vision_config, plus text-tower stand-ins. */
async function writeTwoTowerCheckpoint(folder: string): Promise<void> {
  const visionConfig = JSON.parse(readFileSync(join(fixture.directory, "config.json"), "utf8")) as Record<string, unknown>;
  const config = { architectures: ["CLIPModel"], model_type: "clip", projection_dim: 16, text_config: { hidden_size: 16 }, vision_config: visionConfig };
  writeFileSync(join(folder, "config.json"), JSON.stringify(config));
  const tensors = readTensors(join(fixture.directory, "model.safetensors"));
  tensors.set("text_model.embeddings.token_embedding.weight", tf.ones([8, 16]));
  tensors.set("text_model.final_layer_norm.weight", tf.ones([16]));
  tensors.set("visual_projection.weight", tf.ones([16, 32]));
  tensors.set("text_projection.weight", tf.ones([16, 16]));
  tensors.set("logit_scale", tf.scalar(2.6592));
  writeSafetensors(join(folder, "model.safetensors"), await toWriteEntries(tensors));
  tf.dispose([...tensors.values()]);
}

describe("CLIPVisionModel", () => {
  beforeAll(async () => {
    await useBackend("wasm");
  });

  it("reports its sizes", () => {
    const model = fixture.load<CLIPVisionModel>();
    expect(model).toBeInstanceOf(CLIPVisionModel);
    expect(model.hiddenSize).toBe(32);
    expect(model.mainInputName).toBe("pixel_values");
    expect(model.numPatches).toBe(16);
    expect(model.numPositions).toBe(17);
    expect(model.numFeatures).toBe(17);
    model.dispose();
  });

  it("loads the vision tower of a two-tower CLIP checkpoint", async () => {
    const folder = mkdtempSync(join(tmpdir(), "mm-clip-"));
    try {
      await writeTwoTowerCheckpoint(folder);
      const model = loadPretrained<CLIPVisionModel>(folder);
      expect(model).toBeInstanceOf(CLIPVisionModel);
      expect(model.toConfigJson()).toMatchObject({ model_type: "clip_vision_model", architectures: ["CLIPVisionModel"], hidden_size: 32 });

      const pixelValues = fixture.input("pixel_values");
      const output = model.forward({ pixel_values: pixelValues });
      assertClose(output.last_hidden_state, fixture.output("last_hidden_state"), 1e-4, "last_hidden_state");
      assertClose(output.pooler_output!, fixture.output("pooler_output"), 1e-4, "pooler_output");
      disposeOutput(output);
      pixelValues.dispose();
      model.dispose();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
