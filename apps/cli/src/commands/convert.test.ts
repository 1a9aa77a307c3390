import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend, readSafetensors, type SafetensorsEntry } from "@mm/core";
import { assertClose } from "@mm/core/testing";
import { loadLlava, loadPretrained } from "@mm/models";
import { disposeBatch, loadTrainedModel } from "@mm/trainer";
import { cli, EXAMPLES, exampleConfig } from "../test-support";

const MODEL_FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../packages/models/test-fixtures");
const LLAVA = join(MODEL_FIXTURES, "llava");
const fixtureTensors = readSafetensors(join(LLAVA, "model.safetensors")).tensors;

function bytesOf(entry: SafetensorsEntry): Buffer {
  return Buffer.from(entry.values.buffer, entry.values.byteOffset, entry.values.byteLength);
}

function readJson(path: string): Record<string, any> {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** Parameters of the fixture's tensors whose names start with `prefix`, from the file header. */
function fixtureParameters(prefix: string): string {
  const count = [...fixtureTensors].filter(([name]) => name.startsWith(prefix)).reduce((sum, [, entry]) => sum + entry.values.length, 0);
  return count.toLocaleString("en-US");
}

/**
 * Writes a word-level tokenizer for the fixture's 512-token vocabulary: <unk>, <s>, </s>, w3 to
 * w511, with <image> at the fixture's image_token_index 500.
 */
function writeTinyTokenizer(folder: string): void {
  const names = Array.from({ length: 512 }, (_, id) => ({ 0: "<unk>", 1: "<s>", 2: "</s>", 500: "<image>" })[id] ?? `w${id}`);
  const special = (id: number) => ({ id, content: names[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [0, 1, 2, 500].map(special),
    normalizer: null,
    pre_tokenizer: { type: "Whitespace" },
    post_processor: null,
    decoder: null,
    model: { type: "WordLevel", vocab: Object.fromEntries(names.map((name, id) => [name, id])), unk_token: "<unk>" },
  };
  writeFileSync(join(folder, "tokenizer.json"), JSON.stringify(tokenizer));
  writeFileSync(join(folder, "tokenizer_config.json"), JSON.stringify({ bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>", pad_token: "<unk>" }));
}

/** CLIP preprocessing for the fixture's 32×32 images, with CLIP's mean and standard deviation. */
const PREPROCESSOR_CONFIG = {
  image_processor_type: "CLIPImageProcessor",
  do_resize: true,
  size: { shortest_edge: 32 },
  resample: 3,
  do_center_crop: true,
  crop_size: { height: 32, width: 32 },
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_std: [0.26862954, 0.26130258, 0.27577711],
  do_convert_rgb: true,
};

describe("mm convert llava", () => {
  let root: string;

  beforeAll(async () => {
    await initBackend("wasm");
    root = mkdtempSync(join(tmpdir(), "mm-cli-convert-"));
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it("splits the fixture into modules", async () => {
    const output = join(root, "modules");

    const { status, out, err } = await cli("convert", "llava", LLAVA, "--output", output);

    expect(err).toEqual([]);
    expect(status).toBe(0);
    expect(out[0]).toBe(`wrote vision_encoder/module (clip_vision_model), vision_encoder/projector, language_model (llama) to ${output}`);
    expect(out).toContain(`tokenizer: ${LLAVA} has no tokenizer.json, so no tokenizer/ was written; mm generate and loadTrainedModel need tokenizer/tokenizer.json`);
    expect(readJson(join(output, "mm_config.json"))).toEqual({ modality_token_ids: { vision: 500 }, llava: { vision_feature_layer: -2, vision_feature_select_strategy: "default" } });
    expect(existsSync(join(output, "tokenizer"))).toBe(false);

    const inspected = await cli("inspect", output);
    expect(inspected.status).toBe(0);
    expect(inspected.out).toContain(`  vision_encoder/module     clip_vision_model: ${fixtureParameters("vision_tower.")} parameters`);
    expect(inspected.out).toContain(`  vision_encoder/projector  mlp projector 32 -> 64: ${fixtureParameters("multi_modal_projector.")} parameters`);
    expect(inspected.out).toContain(`  language_model            llama: ${fixtureParameters("language_model.")} parameters`);
    expect(inspected.out).toContain("  vision: token text not recorded (id 500)");
    expect(inspected.out.at(-1)).toBe("tokenizer: none saved");
  });

  it("writes the modules that loadPretrained reads", async () => {
    const output = join(root, "modules-for-load");
    await cli("convert", "llava", LLAVA, "--output", output);

    const languageModel = loadPretrained(join(output, "language_model"));
    const tower = loadPretrained(join(output, "vision_encoder", "module"));

    const embeddings = new Map(languageModel.namedParameters()).get("model.embed_tokens.weight")!;
    const patches = new Map(tower.namedParameters()).get("vision_model.embeddings.patch_embedding.weight")!;
    expect(embeddings.dataSync()).toEqual(fixtureTensors.get("language_model.model.embed_tokens.weight")!.values);
    expect(patches.dataSync()).toEqual(fixtureTensors.get("vision_tower.vision_model.embeddings.patch_embedding.weight")!.values);
    languageModel.dispose();
    tower.dispose();
  });

  it("writes modules back byte for byte", async () => {
    const modules = join(root, "modules-round-trip");
    const output = join(root, "hf");
    await cli("convert", "llava", LLAVA, "--output", modules);

    const { status, out, err } = await cli("convert", "llava", modules, "--output", output, "--to", "hf");

    expect(err).toEqual([]);
    expect(status).toBe(0);
    expect(out[0]).toBe(`wrote config.json and model.safetensors (LLaVA, image_token_index 500, vision_feature_layer -2, strategy "default") to ${output}`);
    const written = readSafetensors(join(output, "model.safetensors")).tensors;
    expect([...written.keys()].sort()).toEqual([...fixtureTensors.keys()].sort());
    for (const [name, expected] of fixtureTensors) {
      const actual = written.get(name)!;
      expect(actual.storedDtype, name).toBe(expected.storedDtype);
      expect(actual.shape, name).toEqual(expected.shape);
      expect(bytesOf(actual).equals(bytesOf(expected)), name).toBe(true);
    }
    const config = readJson(join(output, "config.json"));
    const fixtureConfig = readJson(join(LLAVA, "config.json"));
    for (const key of ["model_type", "image_token_index", "projector_hidden_act", "vision_feature_layer", "vision_feature_select_strategy", "vision_config", "text_config"]) {
      expect(config[key], key).toEqual(fixtureConfig[key]);
    }
  });

  it("keeps the tokenizer for generate", async () => {
    const source = join(root, "llava-with-tokenizer");
    mkdirSync(source);
    for (const file of ["config.json", "model.safetensors"]) copyFileSync(join(LLAVA, file), join(source, file));
    writeTinyTokenizer(source);
    writeFileSync(join(source, "preprocessor_config.json"), JSON.stringify(PREPROCESSOR_CONFIG));
    const modules = join(root, "modules-with-tokenizer");

    const converted = await cli("convert", "llava", source, "--output", modules);

    expect(converted.status).toBe(0);
    expect(converted.out).toContain('tokenizer: copied tokenizer.json, tokenizer_config.json; image token "<image>" (id 500)');
    expect(converted.out).toContain("preprocessor: copied preprocessor_config.json into vision_encoder/");
    expect(readJson(join(modules, "mm_config.json")).modality_tokens).toEqual({ vision: "<image>" });
    const { model, processor } = await loadTrainedModel(modules);
    expect(model.modalities).toEqual(["vision"]);
    expect(processor.modalityTokenIds).toEqual({ vision: 500 });
    // The recorded feature selection (hidden_states[-2], class token dropped) gives transformers' logits.
    const refs = readJson(join(LLAVA, "refs.json")) as { inputs: Record<string, any>; outputs: Record<string, { file: string }> };
    const pixels = readFileSync(join(LLAVA, refs.inputs.pixel_values.file));
    const batch = {
      input_ids: tf.tensor2d(refs.inputs.input_ids_expanded, undefined, "int32"),
      attention_mask: tf.tensor2d(refs.inputs.attention_mask_expanded, undefined, "int32"),
      encoderInputs: { vision: { inputs: { pixel_values: tf.tensor(new Float32Array(pixels.buffer.slice(pixels.byteOffset, pixels.byteOffset + pixels.byteLength)), refs.inputs.pixel_values.shape) }, inputsPerSample: [1, 1] } },
    };
    const { logits } = model.forward(batch);
    const expected = readFileSync(join(LLAVA, refs.outputs.logits_new_style.file));
    assertClose(logits, new Float32Array(expected.buffer.slice(expected.byteOffset, expected.byteOffset + expected.byteLength)), 1e-4, "logits");
    tf.dispose(logits);
    disposeBatch(batch);
    model.dispose();

    const image = join(EXAMPLES, "vlm", "data", "images", "coffee.png");
    const generated = await cli("generate", "--checkpoint", modules, "--prompt", "w3 w4 w5", "--image", image, "--max-new-tokens", "3");
    expect(generated.err).toEqual([]);
    expect(generated.status).toBe(0);
    expect(generated.out).toHaveLength(1);
    expect(generated.out[0]).toMatch(/^(?:w\d+ ?){1,3}$/);

    const back = join(root, "hf-with-tokenizer");
    expect((await cli("convert", "llava", modules, "--output", back, "--to", "hf")).status).toBe(0);
    expect(readdirSync(back).sort()).toEqual(["config.json", "model.safetensors", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json"]);
    expect(readFileSync(join(back, "tokenizer.json")).equals(readFileSync(join(source, "tokenizer.json")))).toBe(true);
  });

  it("writes a trained model as LLaVA", async () => {
    const path = exampleConfig((config) => (config.training.steps = 1));
    expect((await cli("train", path, "--backend", "wasm")).status).toBe(0);
    const trained = join(dirname(path), "output");
    const output = join(root, "trained-hf");

    const { status, out } = await cli("convert", "llava", trained, "--output", output, "--to", "hf");

    expect(status).toBe(0);
    expect(out[0]).toMatch(/image_token_index 32000, vision_feature_layer -1, strategy "full"/);
    const { model, processor } = await loadTrainedModel(trained);
    const llava = loadLlava(output);
    const image = join(EXAMPLES, "vlm", "data", "images", "coffee.png");
    const batch = await processor.processConversations([{ conversations: [{ from: "human", value: "<image>\nDescribe the image briefly." }], inputs: { vision: [image] } }]);
    const expected = model.forward(batch).logits;
    const actual = llava.forward(batch).logits;
    assertClose(actual, expected, 1e-5, "logits of the LLaVA checkpoint");
    tf.dispose([expected, actual]);
    disposeBatch(batch);
    model.dispose();
    llava.dispose();
  });

  it.each([
    ["no arguments", [], /^mm convert: expected 2 argument\(s\), got 0; run "mm convert --help"$/],
    ["an unknown format", ["gguf", LLAVA, "--output", "x"], /^mm convert: unknown format "gguf"; supported: llava \(run "mm convert --help"\)$/],
    ["no --output", ["llava", LLAVA], /^mm convert: --output is required; run "mm convert --help"$/],
    ["an unknown --to", ["llava", LLAVA, "--output", "x", "--to", "onnx"], /^mm convert: --to must be mm or hf, got "onnx"$/],
    ["an unknown option", ["llava", LLAVA, "--output", "x", "--force"], /^mm convert: Unknown option '--force'/],
  ])("reports %s as bad usage", async (_name, argv, message) => {
    const { status, err } = await cli("convert", ...argv);
    expect(status).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
  });

  it.each([
    ["a missing folder", () => ["/nonexistent/llava", "--output", join(root, "never")], /^mm convert: error: folder not found: \/nonexistent\/llava; pass the folder to convert$/],
    ["an output folder in use", () => [LLAVA, "--output", MODEL_FIXTURES], /^mm convert: error: .*test-fixtures already exists and is not an empty folder; pass a new folder to --output$/],
    ["a checkpoint that is not LLaVA", () => [join(MODEL_FIXTURES, "llama"), "--output", join(root, "from-llama")], /^mm convert: error: .*llama\/config\.json: model_type is "llama" but a LLaVA checkpoint has "llava"$/],
    ["--to hf on a LLaVA checkpoint", () => [LLAVA, "--output", join(root, "hf-from-hf"), "--to", "hf"], /^mm convert: error: .*llava is not a folder written by mm train or mm convert: language_model\/config\.json is missing$/],
  ])("stops on %s", async (_name, argv, message) => {
    const { status, err } = await cli("convert", "llava", ...argv());
    expect(status).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
  });

  it("rejects a folder with an audio encoder", async () => {
    const modules = join(root, "modules-with-audio");
    await cli("convert", "llava", LLAVA, "--output", modules);
    cpSync(join(modules, "vision_encoder"), join(modules, "audio_encoder"), { recursive: true });

    const { status, err } = await cli("convert", "llava", modules, "--output", join(root, "audio-hf"), "--to", "hf");

    expect(status).toBe(1);
    expect(err).toEqual([`mm convert: error: ${modules} has the encoders audio_encoder, vision_encoder, but a LLaVA model has exactly one, vision_encoder`]);
  });

  it("rejects a SigLIP tower trained by mm", async () => {
    const modules = join(root, "modules-siglip");
    await cli("convert", "llava", LLAVA, "--output", modules);
    const metadata = readJson(join(modules, "mm_config.json"));
    delete metadata.llava;
    writeFileSync(join(modules, "mm_config.json"), JSON.stringify(metadata));
    const towerConfig = join(modules, "vision_encoder", "module", "config.json");
    writeFileSync(towerConfig, JSON.stringify({ ...readJson(towerConfig), model_type: "siglip_vision_model" }));

    const { status, err } = await cli("convert", "llava", modules, "--output", join(root, "siglip-hf"), "--to", "hf");

    expect(status).toBe(1);
    expect(err[0]).toMatch(/the vision encoder is "siglip_vision_model", and mm trained on its last_hidden_state, which LLaVA's hidden_states\[vision_feature_layer\] selection reproduces only for clip_vision_model/);
  });
});
