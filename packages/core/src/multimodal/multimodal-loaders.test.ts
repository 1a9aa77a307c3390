import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, InputError } from "../errors/errors";
import { ToyEncoder, ToyLanguageModel, useBackend } from "../testing";
import { ModalEncoderModule } from "./modal-encoder-module";
import { registeredMultimodalTypes, registerMultimodalLoader } from "./multimodal-loaders";
import { MultimodalModel } from "./multimodal-model";
import { MultimodalProjector } from "./projector";

describe("MultimodalModel.fromPretrainedMultimodal", () => {
  let folder: string;

  beforeAll(async () => {
    await useBackend("wasm");
    folder = mkdtempSync(join(tmpdir(), "mm-multimodal-loader-"));
  });

  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it("names the type and the import that registers loaders", () => {
    writeFileSync(join(folder, "config.json"), JSON.stringify({ model_type: "unknown_vlm" }));
    const load = () => MultimodalModel.fromPretrainedMultimodal(folder);
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/config\.json: no multimodal loader for model_type "unknown_vlm"; registered: .*Import "@mm\/models" before loading/);
  });

  it("rejects a folder without config.json", () => {
    const empty = mkdtempSync(join(tmpdir(), "mm-multimodal-empty-"));
    try {
      const load = () => MultimodalModel.fromPretrainedMultimodal(empty);
      expect(load).toThrow(InputError);
      expect(load).toThrow(/^file not found: .*config\.json; a multimodal checkpoint folder needs config\.json/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("hands the folder and parsed config to the registered loader", () => {
    const config = { model_type: "toy_vlm", image_token_index: 7 };
    writeFileSync(join(folder, "config.json"), JSON.stringify(config));
    const calls: Array<[string, Record<string, unknown>]> = [];
    registerMultimodalLoader("toy_vlm", (directory, parsed) => {
      calls.push([directory, parsed]);
      const vision = new ModalEncoderModule({ model: new ToyEncoder(6, 8), projector: new MultimodalProjector({ inFeatures: 8, outFeatures: 12 }) });
      return new MultimodalModel({ encoders: { vision }, languageModel: new ToyLanguageModel(20, 12) });
    });

    const model = MultimodalModel.fromPretrainedMultimodal(folder);
    expect(registeredMultimodalTypes()).toContain("toy_vlm");
    expect(calls).toEqual([[folder, config]]);
    expect(model.modalities).toEqual(["vision"]);
    model.dispose();
  });
});
