import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, MultimodalModel, readTensors, ShapeError, toWriteEntries, writeSafetensors } from "@mm/core";
import { assertClose, useBackend } from "@mm/core/testing";
import { disposeBatch, LLAVA_FIXTURE, llavaBatch, llavaOutput } from "./llava-fixture";
import { buildLlava, loadLlava } from "./index";

const fixtureConfig = JSON.parse(readFileSync(join(LLAVA_FIXTURE, "config.json"), "utf8")) as Record<string, unknown>;

/** Renames a tensor of the fixture (transformers 4.40 layout) to the layout of transformers 4.52+. */
function currentLayoutName(name: string): string {
  if (name.startsWith("language_model.model.")) return `model.language_model.${name.slice("language_model.model.".length)}`;
  if (name.startsWith("language_model.lm_head.")) return name.slice("language_model.".length);
  return `model.${name}`;
}

/** Writes the fixture's config and its weights under `rename` into `folder`. */
async function writeRenamedCopy(folder: string, rename: (name: string) => string, extra: Map<string, tf.Tensor> = new Map()): Promise<void> {
  copyFileSync(join(LLAVA_FIXTURE, "config.json"), join(folder, "config.json"));
  const tensors = readTensors(join(LLAVA_FIXTURE, "model.safetensors"));
  const renamed = new Map([...[...tensors].map(([name, tensor]) => [rename(name), tensor] as [string, tf.Tensor]), ...extra]);
  writeSafetensors(join(folder, "model.safetensors"), await toWriteEntries(renamed));
  tf.dispose([...tensors.values(), ...extra.values()]);
}

function logitsOf(model: MultimodalModel): tf.Tensor {
  const batch = llavaBatch(false);
  const { logits } = model.forward(batch);
  disposeBatch(batch);
  return logits;
}

describe("loadLlava", () => {
  let folder: string;

  beforeAll(async () => {
    await useBackend("wasm");
    folder = mkdtempSync(join(tmpdir(), "mm-llava-"));
  });

  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it("reads the key layout of transformers 4.52 and later", async () => {
    await writeRenamedCopy(folder, currentLayoutName);
    const legacy = loadLlava(LLAVA_FIXTURE);
    const current = loadLlava(folder);
    const currentParameters = new Map(current.namedParameters());
    for (const [path, variable] of legacy.namedParameters()) {
      expect(Array.from(currentParameters.get(path)!.dataSync()), path).toEqual(Array.from(variable.dataSync()));
    }
    const logits = logitsOf(current);
    assertClose(logits, llavaOutput("logits_new_style"), 1e-4, "logits from the current layout");
    logits.dispose();
    legacy.dispose();
    current.dispose();
  });

  it("is what MultimodalModel.fromPretrainedMultimodal uses", () => {
    const model = MultimodalModel.fromPretrainedMultimodal(LLAVA_FIXTURE);
    expect(model.modalityTokenIds).toEqual({ vision: 500 });
    const logits = logitsOf(model);
    assertClose(logits, llavaOutput("logits_new_style"), 1e-4, "logits");
    logits.dispose();
    model.dispose();
  });

  it("lists tensors outside the three parts", async () => {
    await writeRenamedCopy(folder, (name) => name, new Map([["image_newline", tf.zeros([64])]]));
    expect(() => loadLlava(folder)).toThrow(ShapeError);
    expect(() => loadLlava(folder)).toThrow(/unexpected tensors image_newline; expected only vision_tower\.\*, multi_modal_projector\.\*, language_model\.\*/);
  });

  it("names a missing projector tensor", async () => {
    await writeRenamedCopy(folder, (name) => (name === "multi_modal_projector.linear_2.bias" ? "language_model.extra.bias" : name));
    expect(() => loadLlava(folder)).toThrow(/\(projector\):\n {2}missing: projection\.out_proj\.bias \[64\]/);
  });

  it("keeps the class token row with the full strategy", () => {
    const model = buildLlava({ ...fixtureConfig, vision_feature_select_strategy: "full" });
    expect(model.encoders.vision.featuresPerInput).toBe(17);
    const pixelValues = tf.zeros([1, 3, 32, 32]);
    const features = model.encoders.vision.forward({ pixel_values: pixelValues });
    expect(features.shape).toEqual([1, 17, 64]);
    tf.dispose([features, pixelValues]);
    model.dispose();
  });

  it("reads image_token_id and a bias-free projector", () => {
    const config: Record<string, unknown> = { ...fixtureConfig, image_token_id: 7, multimodal_projector_bias: false };
    delete config.image_token_index;
    const model = buildLlava(config);
    expect(model.modalityTokenIds).toEqual({ vision: 7 });
    expect(model.encoders.vision.projector!.namedParameters().map(([name]) => name)).toEqual(["projection.in_proj.weight", "projection.out_proj.weight"]);
    model.dispose();
  });

  it.each([
    [{ model_type: "llama" }, /model_type is "llama" but a LLaVA checkpoint has "llava"/],
    [{ text_config: undefined }, /"text_config" is missing; a LLaVA config\.json needs vision_config and text_config/],
    [{ vision_feature_select_strategy: "cls" }, /vision_feature_select_strategy must be "default" or "full", got "cls"/],
    [{ vision_feature_layer: [-2, -1] }, /vision_feature_layer is a list \(\[-2,-1\]\); only one layer index is supported/],
    [{ vision_feature_layer: 3 }, /vision_feature_layer 3 is outside the vision tower's 3 hidden states \(embeddings and 2 layers\)/],
    [{ projector_hidden_act: "swiglu" }, /projector: unknown activation "swiglu"/],
  ])("rejects an invalid config: %j", (change, message) => {
    const build = () => buildLlava({ ...fixtureConfig, ...change }, "llava/config.json");
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(message);
  });

  it("rejects a vision_config that is not an image encoder", () => {
    const config = { ...fixtureConfig, vision_config: { model_type: "whisper", d_model: 16, encoder_layers: 1, encoder_attention_heads: 2, num_mel_bins: 8, max_source_positions: 4 } };
    expect(() => buildLlava(config)).toThrow(/vision_config builds a whisper model, which does not read pixel_values; use an image encoder/);
  });
});
