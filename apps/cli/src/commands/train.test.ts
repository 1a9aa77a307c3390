import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { initBackend } from "@mm/core";
import { createModelFromConfig, savePretrained } from "@mm/models";
// The fake Hub is a test helper of @mm/models that its package entry point does not export.
import { FakeHub } from "../../../../packages/models/src/hub/testing/fake-hub";
import { cli, EXAMPLES, exampleConfig, readExampleConfig } from "../test-support";

/** Writes `value` as block-style YAML: mappings indented by two spaces, arrays in flow style. */
function toYaml(value: unknown, indent = ""): string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return `${JSON.stringify(value)}\n`;
  return Object.entries(value)
    .map(([key, child]) => {
      const nested = typeof child === "object" && child !== null && !Array.isArray(child);
      return nested ? `${indent}${key}:\n${toYaml(child, `${indent}  `)}` : `${indent}${key}: ${toYaml(child)}`;
    })
    .join("");
}

function readJson(path: string): Record<string, any> {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** Returns the vlm example's captions with absolute image paths and `token` in place of <image>. */
function captionsWithToken(token: string): unknown[] {
  const folder = join(EXAMPLES, "vlm", "data");
  const records = JSON.parse(readFileSync(join(folder, "captions.json"), "utf8")) as Array<Record<string, any>>;
  return records.map((record) => ({
    ...record,
    image: join(folder, record.image),
    conversations: record.conversations.map((turn: { from: string; value: string }) => ({ ...turn, value: turn.value.replaceAll("<image>", token) })),
  }));
}

describe("mm train --set", () => {
  it("changes the config before training", async () => {
    const path = exampleConfig();
    const data = join(dirname(path), "captions-img.json");
    writeFileSync(data, JSON.stringify(captionsWithToken("<img>")));
    const sets = ["training.steps=2", "trainable=projector", "model.encoders.vision.token=<img>", `data.train=${data}`].flatMap((text) => ["--set", text]);

    const { status, out, err } = await cli("train", path, ...sets, "--backend", "wasm");

    expect(err).toEqual([]);
    expect(status).toBe(0);
    expect(out.at(-1)).toMatch(/^done: 2 steps/);
    const output = join(dirname(path), "output");
    expect(readJson(join(output, "mm_config.json")).modality_tokens).toEqual({ vision: "<img>" });
    const inspected = await cli("inspect", output);
    expect(inspected.out).toContainEqual(expect.stringMatching(/^ {2}vision_encoder\/module +clip_vision_model: [\d,]+ parameters, frozen$/));
    expect(inspected.out).toContain("  vision_encoder/projector  mlp projector 64 -> 128: 24,832 parameters, 24,832 trainable");
    expect(inspected.out).toContain("  vision: <img> (id 32000)");
  });

  it("lets --set backend win over MM_BACKEND", async () => {
    vi.stubEnv("MM_BACKEND", "invalid");
    try {
      const { status, err } = await cli("train", exampleConfig(), "--set", "backend=wasm", "--set", "training.steps=1");
      expect(err).toEqual([]);
      expect(status).toBe(0);
      const ignored = await cli("train", exampleConfig(), "--set", "training.steps=1");
      expect(ignored.status).toBe(1);
      expect(ignored.err[0]).toMatch(/MM_BACKEND/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it.each([
    ["no =", ["--set", "training.steps"], 2, /^mm train: --set training\.steps: expected KEY=VALUE, e\.g\. training\.steps=10$/],
    ["an empty key part", ["--set", "training..steps=1"], 2, /^mm train: --set training\.\.steps=1: the key "training\.\.steps" has an empty part/],
    ["an unknown key", ["--set", "training.epochs=2"], 1, /^mm train: error: .*config\.json: unknown key "training\.epochs"; remove it or check its spelling \(from --set training\.epochs=2\)$/],
    ["a wrong type", ["--set", "training.steps=ten"], 1, /^mm train: error: .*config\.json: "training\.steps": got "ten"; expected number, received string \(from --set training\.steps=ten\)$/],
    ["a key inside a number", ["--set", "seed.value=1"], 1, /^mm train: error: .*config\.json: --set seed\.value=1: "seed" is 0, not an object, so it has no key "value"$/],
  ])("rejects %s", async (_name, sets, status, message) => {
    const result = await cli("train", exampleConfig(), ...sets, "--backend", "wasm");
    expect(result.status).toBe(status);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(message);
  });
});

describe("mm train with a YAML config", () => {
  let folder: string;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), "mm-cli-yaml-"));
  });

  afterEach(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it("trains from a .yaml file", async () => {
    const config = readExampleConfig(folder);
    config.training.steps = 2;
    const path = join(folder, "config.yaml");
    writeFileSync(path, `# The vlm example in YAML.\n${toYaml(config)}`);

    const { status, out } = await cli("train", path, "--backend", "wasm");

    expect(status).toBe(0);
    expect(out.at(-1)).toMatch(/^done: 2 steps/);
    expect(existsSync(join(folder, "output", "language_model", "model.safetensors"))).toBe(true);
  });

  it("names the file and line of a syntax error", async () => {
    const path = join(folder, "config.yml");
    writeFileSync(path, "seed: 0\ntraining:\n  steps: [2\n  batchSize: 1\n");

    const { status, err } = await cli("train", path);

    expect(status).toBe(1);
    expect(err).toEqual([`mm train: error: ${path}:4:3: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`]);
  });
});

/** Variables that would point a test at the developer's own cache, token or Hub. */
const HUB_VARIABLES = ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME", "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"];

/** Saves a random-weight model of `config` and returns its files by name. */
async function randomModelFiles(config: Record<string, unknown>, folder: string): Promise<Record<string, Buffer>> {
  const model = createModelFromConfig(config);
  await savePretrained(model, folder);
  model.dispose();
  return { "config.json": readFileSync(join(folder, "config.json")), "model.safetensors": readFileSync(join(folder, "model.safetensors")) };
}

describe("mm train with Hub ids", () => {
  let hub: FakeHub;
  let home: string;
  let scratch: string;

  beforeAll(async () => {
    await initBackend("wasm");
    scratch = mkdtempSync(join(tmpdir(), "mm-cli-hub-models-"));
    const example = readExampleConfig(scratch);
    const tokenizer = join(EXAMPLES, "vlm", "tokenizer");
    hub = await FakeHub.start();
    hub.addCommit("org/tiny-llm", {
      ...(await randomModelFiles(example.model.languageModel.config, join(scratch, "llm"))),
      "tokenizer.json": readFileSync(join(tokenizer, "tokenizer.json")),
      "tokenizer_config.json": readFileSync(join(tokenizer, "tokenizer_config.json")),
    });
    hub.addCommit("org/tiny-clip", {
      ...(await randomModelFiles(example.model.encoders.vision.model.config, join(scratch, "clip"))),
      "preprocessor_config.json": Buffer.from(JSON.stringify(example.model.encoders.vision.processor.config)),
    }, ["main", "v1"]);
  });

  afterAll(async () => {
    await hub.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "mm-hf-home-"));
    vi.stubEnv("HF_HOME", home);
    vi.stubEnv("HF_ENDPOINT", hub.url);
    for (const name of HUB_VARIABLES) vi.stubEnv(name, undefined);
    hub.requests.length = 0;
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(home, { recursive: true, force: true });
  });

  it("downloads Hub models and trains", async () => {
    const sets = [
      "model.languageModel.config=null",
      "model.languageModel.path=org/tiny-llm",
      "tokenizer=org/tiny-llm",
      "model.encoders.vision.model.config=null",
      "model.encoders.vision.model.path=org/tiny-clip@v1",
      "model.encoders.vision.processor.config=null",
      "model.encoders.vision.processor.path=org/tiny-clip@v1",
      "training.steps=1",
    ].flatMap((text) => ["--set", text]);
    const path = exampleConfig();

    const { status, out } = await cli("train", path, ...sets, "--backend", "wasm");

    expect(status).toBe(0);
    expect(out.at(-1)).toMatch(/^done: 1 steps/);
    expect(hub.requestsTo("/api/models/org/tiny-llm/revision/main")).toHaveLength(1);
    expect(hub.requestsTo("/api/models/org/tiny-clip/revision/v1")).toHaveLength(1);
    expect(existsSync(join(home, "hub", "models--org--tiny-llm", "refs", "main"))).toBe(true);
    const output = join(dirname(path), "output");
    const processor = readJson(join(output, "vision_encoder", "preprocessor_config.json"));
    expect(processor.crop_size).toEqual({ height: 64, width: 64 });
    expect(existsSync(join(output, "tokenizer", "tokenizer.json"))).toBe(true);
  });

  it("names the key of a missing Hub model", async () => {
    const path = exampleConfig((config) => (config.model.encoders.vision.processor = { path: "org/absent" }));

    const { status, err } = await cli("train", path, "--backend", "wasm");

    expect(status).toBe(1);
    expect(err[0]).toMatch(/^mm train: error: "model\.encoders\.vision\.processor\.path": org\/absent is not a local path, so it was looked up as a Hub model id: org\/absent@main: .*HTTP 401/);
  });
});
