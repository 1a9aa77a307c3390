import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "@mm/core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
// The fake Hub is a test helper of @mm/models that its package entry point does not export.
import { FakeHub } from "../../../models/src/hub/testing/fake-hub";
import { loadTrainConfig } from "./load-config";
import { isHubModelId, resolveModelReferences } from "./model-references";

const MODEL_FIXTURES = fileURLToPath(new URL("../../../models/test-fixtures", import.meta.url));
const fixtureFile = (model: string, file: string) => readFileSync(join(MODEL_FIXTURES, model, file));
const tokenizerJson = Buffer.from(JSON.stringify({ version: "1.0", added_tokens: [], model: { type: "WordLevel", vocab: { "<unk>": 0 }, unk_token: "<unk>" } }));
const preprocessorConfig = Buffer.from(JSON.stringify({ image_processor_type: "CLIPImageProcessor", size: { shortest_edge: 32 } }));

/** Variables that would point a test at the developer's own cache, token or Hub. */
const HUB_VARIABLES = ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME", "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"];

const CONFIG = {
  model: {
    languageModel: { path: "org/tiny-llama" },
    encoders: { vision: { model: { path: "org/tiny-clip@v1" }, processor: { path: "org/tiny-clip@v1" }, token: "<image>" } },
  },
  tokenizer: "org/tiny-llama",
  data: { train: "data/captions.json" },
  training: { steps: 1, batchSize: 1, learningRate: 0.001 },
  output: "output",
};

describe("isHubModelId", () => {
  it.each([
    ["org/name", true],
    ["org/name@v1.0", true],
    ["org/name@refs/pr/1", true],
    ["name", false],
    ["./org/name", false],
    ["/abs/path", false],
    ["a/b/c", false],
    ["org/bad name", false],
  ])("%s -> %s", (value, expected) => {
    expect(isHubModelId(value)).toBe(expected);
  });
});

describe("resolveModelReferences", () => {
  let hub: FakeHub;
  let home: string;
  let folder: string;
  let llamaCommit: string;
  let clipCommit: string;

  beforeAll(async () => {
    hub = await FakeHub.start();
    const llama = { "config.json": fixtureFile("llama", "config.json"), "model.safetensors": fixtureFile("llama", "model.safetensors"), "tokenizer.json": tokenizerJson };
    llamaCommit = hub.addCommit("org/tiny-llama", llama);
    const clip = { "config.json": fixtureFile("clip_vision", "config.json"), "model.safetensors": fixtureFile("clip_vision", "model.safetensors"), "preprocessor_config.json": preprocessorConfig };
    clipCommit = hub.addCommit("org/tiny-clip", clip, ["v1"]);
    hub.addCommit("org/no-tokenizer", { "config.json": fixtureFile("llama", "config.json"), "model.safetensors": fixtureFile("llama", "model.safetensors") });
  });

  afterAll(async () => {
    await hub.close();
  });

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "mm-hf-home-"));
    folder = mkdtempSync(join(tmpdir(), "mm-config-hub-"));
    vi.stubEnv("HF_HOME", home);
    vi.stubEnv("HF_ENDPOINT", hub.url);
    for (const name of HUB_VARIABLES) vi.stubEnv(name, undefined);
    hub.requests.length = 0;
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(home, { recursive: true, force: true });
    rmSync(folder, { recursive: true, force: true });
  });

  function writeConfig(change: (config: any) => void = () => {}): string {
    const config = structuredClone(CONFIG);
    change(config);
    const path = join(folder, "config.json");
    writeFileSync(path, JSON.stringify(config));
    return path;
  }

  const snapshot = (repoId: string, commit: string) => join(home, "hub", `models--${repoId.replace("/", "--")}`, "snapshots", commit);

  it("downloads each Hub id once into the cache", async () => {
    const config = await resolveModelReferences(loadTrainConfig(writeConfig()));

    expect(config.model.languageModel.path).toBe(snapshot("org/tiny-llama", llamaCommit));
    expect(config.tokenizer).toBe(snapshot("org/tiny-llama", llamaCommit));
    expect(config.model.encoders.vision.model.path).toBe(snapshot("org/tiny-clip", clipCommit));
    expect(config.model.encoders.vision.processor.path).toBe(snapshot("org/tiny-clip", clipCommit));
    expect(existsSync(join(config.tokenizer, "tokenizer.json"))).toBe(true);
    expect(existsSync(join(config.model.encoders.vision.processor.path!, "preprocessor_config.json"))).toBe(true);
    // Each id names two keys but is looked up once.
    expect(hub.requestsTo("/revision/")).toHaveLength(2);
  });

  it("sends no request for local paths", async () => {
    const config = loadTrainConfig(writeConfig((c) => {
      c.model.languageModel = { config: { model_type: "llama" } };
      c.model.encoders.vision.model.path = "clip";
      c.model.encoders.vision.processor = { config: {} };
      c.tokenizer = "tokenizer";
    }));

    const resolved = await resolveModelReferences(config);

    expect(resolved).toEqual(config);
    expect(hub.requests).toHaveLength(0);
  });

  it("names the key of a missing Hub model", async () => {
    const config = loadTrainConfig(writeConfig((c) => (c.model.languageModel.path = "org/absent")));

    const error = await resolveModelReferences(config).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/^"model\.languageModel\.path": org\/absent is not a local path, so it was looked up as a Hub model id: org\/absent@main: .*HTTP 401/);
  });

  it("requires tokenizer.json in a tokenizer repository", async () => {
    const config = loadTrainConfig(writeConfig((c) => (c.tokenizer = "org/no-tokenizer")));

    await expect(resolveModelReferences(config)).rejects.toThrow(/^"tokenizer": the Hub model org\/no-tokenizer has no tokenizer\.json; name a repository that has one, or a local folder$/);
  });

  it("requires preprocessor_config.json in a processor repository", async () => {
    const config = loadTrainConfig(writeConfig((c) => (c.model.encoders.vision.processor.path = "org/tiny-llama")));

    await expect(resolveModelReferences(config)).rejects.toThrow(/^"model\.encoders\.vision\.processor\.path": the Hub model org\/tiny-llama has no preprocessor_config\.json/);
  });
});
