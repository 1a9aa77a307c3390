import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@mm/core";
import { describe, expect, it } from "vitest";
import { loadTrainConfig, parseTrainConfig } from "./load-config";

const VALID = {
  model: {
    languageModel: { config: { model_type: "llama" } },
    encoders: { vision: { model: { path: "clip" }, processor: { path: "clip" }, token: "<image>" } },
  },
  tokenizer: "tokenizer",
  data: { train: "data/captions.json" },
  training: { steps: 10, batchSize: 2, learningRate: 0.001 },
  output: "output",
};

function withChange(change: (config: Record<string, any>) => void): Record<string, unknown> {
  const config = structuredClone(VALID) as Record<string, any>;
  change(config);
  return config;
}

describe("parseTrainConfig", () => {
  it("fills defaults", () => {
    const config = parseTrainConfig(VALID, "config.json");
    expect(config.training).toMatchObject({ gradientAccumulation: 1, schedule: "cosine", weightDecay: 0, warmupSteps: 0 });
    expect(config.trainable).toBe("all");
    expect(config.model.encoders.vision.projector).toEqual({ type: "mlp", activation: "gelu" });
  });

  it.each([
    ["an unknown top-level key", (c: any) => (c.epochs = 3), /^config.json: unknown key "epochs"; remove it or check its spelling$/],
    ["an unknown nested key", (c: any) => (c.training.lr = 3), /unknown key "training.lr"/],
    ["a wrong type", (c: any) => (c.training.steps = "ten"), /^config.json: "training.steps": got "ten"; expected number, received string$/],
    ["a missing key", (c: any) => delete c.tokenizer, /"tokenizer": missing; expected string/],
    ["a value outside an enum", (c: any) => (c.training.schedule = "step"), /"training.schedule": got "step"; allowed: "constant", "linear", "cosine"/],
    ["a negative number", (c: any) => (c.training.learningRate = -1), /"training.learningRate": got -1; Too small/],
    ["both a model path and a config", (c: any) => (c.model.languageModel.path = "x"), /give exactly one of "path"/],
    ["a bad trainable preset", (c: any) => (c.trainable = "encoder"), /"trainable": got "encoder"; use "projector", "projector\+llm", "all"/],
  ])("rejects %s naming the key", (_name, change, message) => {
    expect(() => parseTrainConfig(withChange(change), "config.json")).toThrow(ConfigError);
    expect(() => parseTrainConfig(withChange(change), "config.json")).toThrow(message);
  });
});

describe("loadTrainConfig", () => {
  const folder = mkdtempSync(join(tmpdir(), "mm-config-"));

  it("resolves paths against the config file's folder", () => {
    const path = join(folder, "ok.json");
    writeFileSync(path, JSON.stringify(VALID));
    const config = loadTrainConfig(path);
    expect(config.tokenizer).toBe(join(folder, "tokenizer"));
    expect(config.data.train).toBe(join(folder, "data/captions.json"));
    expect(config.model.encoders.vision.model.path).toBe(join(folder, "clip"));
  });

  it("names a missing file", () => {
    expect(() => loadTrainConfig(join(folder, "absent.json"))).toThrow(/^config file not found: .*absent.json/);
  });

  it("names a file that is not JSON", () => {
    const path = join(folder, "broken.json");
    writeFileSync(path, "{ steps: 1 ");
    expect(() => loadTrainConfig(path)).toThrow(/broken.json: invalid JSON/);
  });
});
