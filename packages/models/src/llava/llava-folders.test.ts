import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, InputError, loadModuleWeights, ModalEncoderModule, MultimodalModel, MultimodalProjector, readSafetensors, type CausalLanguageModel, type ModalityEncoder, type SafetensorsEntry } from "@mm/core";
import { assertClose, countLeakedTensors, useBackend } from "@mm/core/testing";
import { loadPretrained, readJsonFile, writeJsonFile } from "../pretrained/load-save";
import { llavaFeatureSelector } from "./llava-features";
import { disposeBatch, LLAVA_FIXTURE, llavaBatch, llavaOutput, llavaRefs } from "./llava-fixture";
import { loadLlava } from "./load-llava";
import { saveLlava } from "./save-llava";
import { splitLlavaFolder, type LlavaModuleFolders } from "./split-llava-folder";
import { readStoredTensors, writeStoredTensors } from "./stored-tensors";

const fixtureTensors = readSafetensors(join(LLAVA_FIXTURE, "model.safetensors")).tensors;

function bytesOf(entry: SafetensorsEntry): Buffer {
  return Buffer.from(entry.values.buffer, entry.values.byteOffset, entry.values.byteLength);
}

function moduleFolders(root: string): LlavaModuleFolders {
  return { visionTower: join(root, "vision"), projector: join(root, "projector"), languageModel: join(root, "language") };
}

/** Assembles the three part folders into LLaVA with transformers' feature selection (layer -2, no class token). */
function assembleLlava(folders: LlavaModuleFolders): MultimodalModel {
  const tower = loadPretrained(folders.visionTower) as unknown as ModalityEncoder;
  const projector = MultimodalProjector.fromConfigJson(readJsonFile(join(folders.projector, "config.json")));
  loadModuleWeights(projector, join(folders.projector, "model.safetensors"));
  const vision = new ModalEncoderModule({ model: tower, projector, outputHiddenStates: true, postprocessModuleCallback: llavaFeatureSelector(-2, "default"), featuresPerInput: 16 });
  const model = new MultimodalModel({ encoders: { vision }, languageModel: loadPretrained(folders.languageModel) as unknown as CausalLanguageModel });
  model.setModalityTokenIds({ vision: llavaRefs.image_token_index });
  return model;
}

function logitsOf(model: MultimodalModel): tf.Tensor {
  const batch = llavaBatch(false);
  const { logits } = model.forward(batch);
  disposeBatch(batch);
  return logits;
}

describe("splitLlavaFolder and saveLlava", () => {
  let root: string;
  let folders: LlavaModuleFolders;

  beforeAll(async () => {
    await useBackend("wasm");
    root = mkdtempSync(join(tmpdir(), "mm-llava-folders-"));
    folders = moduleFolders(join(root, "modules"));
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it("splits into loadable module folders", async () => {
    const settings = splitLlavaFolder(LLAVA_FIXTURE, folders);

    expect(settings).toMatchObject({ imageTokenIndex: 500, visionFeatureLayer: -2, visionFeatureSelectStrategy: "default", projectorHiddenAct: "gelu" });
    expect(readJsonFile(join(folders.projector, "config.json"))).toEqual({ in_features: 32, out_features: 64, projection_type: "mlp", activation: "gelu", bias: true });
    expect(readJsonFile(join(folders.visionTower, "config.json")).model_type).toBe("clip_vision_model");
    expect(readJsonFile(join(folders.languageModel, "config.json")).model_type).toBe("llama");
    const split = readSafetensors(join(folders.projector, "model.safetensors")).tensors;
    expect(bytesOf(split.get("projection.in_proj.weight")!).equals(bytesOf(fixtureTensors.get("multi_modal_projector.linear_1.weight")!))).toBe(true);
    expect(bytesOf(split.get("projection.out_proj.bias")!).equals(bytesOf(fixtureTensors.get("multi_modal_projector.linear_2.bias")!))).toBe(true);

    let logits: tf.Tensor | undefined;
    const leaked = await countLeakedTensors(() => {
      const model = assembleLlava(folders);
      logits = logitsOf(model);
      assertClose(logits, llavaOutput("logits_new_style"), 1e-4, "logits of the reassembled parts");
      logits.dispose();
      model.dispose();
    });
    expect(leaked).toBe(0);
  });

  it("writes parts back byte for byte", () => {
    splitLlavaFolder(LLAVA_FIXTURE, folders);
    const output = join(root, "hf");
    saveLlava(folders, output, { imageTokenIndex: 500, visionFeatureLayer: -2, visionFeatureSelectStrategy: "default" });

    const written = readSafetensors(join(output, "model.safetensors")).tensors;
    expect([...written.keys()].sort()).toEqual([...fixtureTensors.keys()].sort());
    for (const [name, expected] of fixtureTensors) {
      const actual = written.get(name)!;
      expect(actual.storedDtype, name).toBe(expected.storedDtype);
      expect(actual.shape, name).toEqual(expected.shape);
      expect(bytesOf(actual).equals(bytesOf(expected)), name).toBe(true);
    }
    const config = readJsonFile(join(output, "config.json"));
    expect(config).toMatchObject({ model_type: "llava", image_token_index: 500, projector_hidden_act: "gelu", vision_feature_layer: -2, vision_feature_select_strategy: "default", multimodal_projector_bias: true });
    expect(config.vision_config).toEqual(readJsonFile(join(LLAVA_FIXTURE, "config.json")).vision_config);
    expect(config.text_config).toEqual(readJsonFile(join(LLAVA_FIXTURE, "config.json")).text_config);
  });

  it("writes a folder that loadLlava reads", () => {
    const output = join(root, "hf-for-load");
    saveLlava(folders, output, { imageTokenIndex: 500, visionFeatureLayer: -2, visionFeatureSelectStrategy: "default" });
    const model = loadLlava(output);
    const logits = logitsOf(model);
    assertClose(logits, llavaOutput("logits_new_style"), 1e-4, "logits after the round trip");
    logits.dispose();
    model.dispose();
  });

  it("splits the 4.52 layout identically", () => {
    const current = join(root, "current-layout");
    mkdirSync(current);
    copyFileSync(join(LLAVA_FIXTURE, "config.json"), join(current, "config.json"));
    const renamed = new Map([...readStoredTensors([join(LLAVA_FIXTURE, "model.safetensors")])].map(([name, tensor]) => [currentLayoutName(name), tensor]));
    writeStoredTensors(join(current, "model.safetensors"), renamed);
    const currentFolders = moduleFolders(join(root, "from-current"));

    splitLlavaFolder(current, currentFolders);
    splitLlavaFolder(LLAVA_FIXTURE, folders);

    for (const part of ["visionTower", "projector", "languageModel"] as const) {
      expect(readFileSync(join(currentFolders[part], "model.safetensors")).equals(readFileSync(join(folders[part], "model.safetensors"))), part).toBe(true);
    }
  });

  it("rejects a projector that is not an mlp", () => {
    const linear = moduleFolders(join(root, "linear"));
    splitLlavaFolder(LLAVA_FIXTURE, linear);
    writeJsonFile(join(linear.projector, "config.json"), { in_features: 32, out_features: 64, projection_type: "linear" });
    const save = () => saveLlava(linear, join(root, "linear-hf"), { imageTokenIndex: 500, visionFeatureLayer: -2, visionFeatureSelectStrategy: "default" });
    expect(save).toThrow(ConfigError);
    expect(save).toThrow(/projection_type is "linear", but LLaVA's projector is "mlp" \(linear_1, activation, linear_2\)/);
  });

  it("rejects an invalid feature strategy", () => {
    const save = () => saveLlava(folders, join(root, "bad-strategy"), { imageTokenIndex: 500, visionFeatureLayer: -2, visionFeatureSelectStrategy: "cls" as "full" });
    expect(save).toThrow(/vision_feature_select_strategy must be "default" or "full", got "cls"/);
  });
});

/** Renames a tensor of the fixture (transformers 4.40 layout) to the layout of transformers 4.52+. */
function currentLayoutName(name: string): string {
  if (name.startsWith("language_model.model.")) return `model.language_model.${name.slice("language_model.model.".length)}`;
  if (name.startsWith("language_model.lm_head.")) return name.slice("language_model.".length);
  return `model.${name}`;
}

describe("writeStoredTensors", () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "mm-stored-tensors-"));
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /** Writes a safetensors file by hand: BF16 [2, 2] "a" and I64 [3] "b", with an unpadded header. */
  function writeHandmadeFile(path: string): { a: Buffer; b: Buffer } {
    const a = Buffer.from([0x80, 0x3f, 0x00, 0x40, 0x40, 0x40, 0x80, 0x40]); // bfloat16 1, 2, 3, 4
    const b = Buffer.alloc(24);
    [7n, -1n, 2n ** 40n].forEach((value, index) => b.writeBigInt64LE(value, index * 8));
    const header = Buffer.from(JSON.stringify({ a: { dtype: "BF16", shape: [2, 2], data_offsets: [0, 8] }, b: { dtype: "I64", shape: [3], data_offsets: [8, 32] } }));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(path, Buffer.concat([length, header, a, b]));
    return { a, b };
  }

  it("copies bytes in the stored dtype under new names", () => {
    const source = join(root, "handmade.safetensors");
    const { a, b } = writeHandmadeFile(source);
    const stored = readStoredTensors([source]);

    const copy = join(root, "copy.safetensors");
    writeStoredTensors(copy, new Map([["renamed.a", stored.get("a")!], ["renamed.b", stored.get("b")!]]));

    const bytes = readFileSync(copy);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect(headerLength % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8"));
    expect(header).toEqual({
      __metadata__: { format: "pt" },
      "renamed.a": { dtype: "BF16", shape: [2, 2], data_offsets: [0, 8] },
      "renamed.b": { dtype: "I64", shape: [3], data_offsets: [8, 32] },
    });
    expect(bytes.subarray(8 + headerLength).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it("rejects a tensor stored in two files", () => {
    const first = join(root, "first.safetensors");
    const second = join(root, "second.safetensors");
    writeHandmadeFile(first);
    writeHandmadeFile(second);
    expect(() => readStoredTensors([first, second])).toThrow(InputError);
    expect(() => readStoredTensors([first, second])).toThrow(/tensor "a" is stored in both .*first\.safetensors and .*second\.safetensors/);
  });

  it("leaves no file when a source is truncated", () => {
    const source = join(root, "truncated.safetensors");
    writeHandmadeFile(source);
    const stored = readStoredTensors([source]);
    writeFileSync(source, readFileSync(source).subarray(0, -4));
    const copy = join(root, "from-truncated.safetensors");

    expect(() => writeStoredTensors(copy, stored)).toThrow(/truncated\.safetensors ended at byte \d+, before the end of a tensor/);
    expect(() => readFileSync(copy)).toThrow();
    expect(() => readFileSync(`${copy}.tmp`)).toThrow();
  });
});
