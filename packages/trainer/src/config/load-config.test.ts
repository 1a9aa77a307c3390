import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@mm/core";
import { describe, expect, it } from "vitest";
import { parseConfigOverride } from "./config-overrides";
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
    expect(config.training).toMatchObject({ optimizer: "adamw", keepCheckpoints: 2, skipNonFinite: false });
    expect(config.training.saveEvery).toBeUndefined();
    expect(config.data.skipBadRecords).toBe(false);
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
    ["an unknown optimizer", (c: any) => (c.training.optimizer = "adam"), /"training.optimizer": got "adam"; allowed: "adamw", "sgd"/],
    ["momentum with AdamW", (c: any) => (c.training.momentum = 0.9), /"training.momentum": got 0.9; applies to optimizer "sgd" only; remove it or set "training.optimizer" to "sgd"$/],
    ["AdamW betas with SGD", (c: any) => Object.assign(c.training, { optimizer: "sgd", adamBeta2: 0.95 }), /"training.adamBeta2": got 0.95; applies to optimizer "adamw" only/],
    ["a beta of 1", (c: any) => (c.training.adamBeta1 = 1), /"training.adamBeta1": got 1; Too big: expected number to be <1/],
    ["a zero epsilon", (c: any) => (c.training.adamEpsilon = 0), /"training.adamEpsilon": got 0; Too small/],
    ["saveEvery of 0", (c: any) => (c.training.saveEvery = 0), /"training.saveEvery": got 0; Too small/],
    ["keepCheckpoints of 0", (c: any) => (c.training.keepCheckpoints = 0), /"training.keepCheckpoints": got 0; Too small/],
    ["a non-boolean skipNonFinite", (c: any) => (c.training.skipNonFinite = "yes"), /"training.skipNonFinite": got "yes"; expected boolean/],
    ["evalEvery without held-out data", (c: any) => (c.training.evalEvery = 5), /"training.evalEvery": got 5; needs held-out records; set "data.eval" or "data.evalFraction"$/],
    ["both eval and evalFraction", (c: any) => Object.assign(c.data, { eval: "e.json", evalFraction: 0.1 }), /"data.evalFraction": got 0.1; give either "data.eval" \(a dataset file\) or "data.evalFraction", not both$/],
    ["an evalFraction of 1", (c: any) => (c.data.evalFraction = 1), /"data.evalFraction": got 1; Too big/],
    ["an unknown data key", (c: any) => (c.data.format = "llava"), /unknown key "data.format"/],
  ])("rejects %s naming the key", (_name, change, message) => {
    expect(() => parseTrainConfig(withChange(change), "config.json")).toThrow(ConfigError);
    expect(() => parseTrainConfig(withChange(change), "config.json")).toThrow(message);
  });

  it("accepts every training and data key", () => {
    const config = parseTrainConfig(
      withChange((c) => {
        Object.assign(c.training, { optimizer: "sgd", momentum: 0.9, saveEvery: 10, keepCheckpoints: 3, skipNonFinite: true, evalEvery: 5 });
        Object.assign(c.data, { evalFraction: 0.1, skipBadRecords: true, maxLength: 128 });
      }),
      "config.json",
    );
    expect(config.training).toMatchObject({ optimizer: "sgd", momentum: 0.9, saveEvery: 10, keepCheckpoints: 3, skipNonFinite: true, evalEvery: 5 });
    expect(config.data).toMatchObject({ evalFraction: 0.1, skipBadRecords: true, maxLength: 128 });
  });

  it("accepts AdamW betas and epsilon", () => {
    const config = parseTrainConfig(withChange((c) => Object.assign(c.training, { adamBeta1: 0.8, adamBeta2: 0.95, adamEpsilon: 1e-6 })), "config.json");
    expect(config.training).toMatchObject({ optimizer: "adamw", adamBeta1: 0.8, adamBeta2: 0.95, adamEpsilon: 1e-6 });
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
    expect(config.data.eval).toBeUndefined();
    expect(config.model.encoders.vision.model.path).toBe(join(folder, "clip"));
  });

  it("resolves the eval dataset path", () => {
    const path = join(folder, "with-eval.json");
    writeFileSync(path, JSON.stringify(withChange((c) => (c.data.eval = "data/held-out.jsonl"))));
    expect(loadTrainConfig(path).data.eval).toBe(join(folder, "data/held-out.jsonl"));
  });

  it("names a missing file", () => {
    expect(() => loadTrainConfig(join(folder, "absent.json"))).toThrow(/^config file not found: .*absent.json/);
  });

  it("names a file that is not JSON", () => {
    const path = join(folder, "broken.json");
    writeFileSync(path, "{ steps: 1 ");
    expect(() => loadTrainConfig(path)).toThrow(/broken.json: invalid JSON/);
  });

  it("keeps Hub ids that are not local paths", () => {
    const path = join(folder, "hub.json");
    writeFileSync(path, JSON.stringify(withChange((c) => {
      c.model.languageModel = { path: "org/tiny-llama@v1.0" };
      c.tokenizer = "org/tiny-llama";
      c.model.encoders.vision.processor.path = "org/tiny-clip";
    })));
    const config = loadTrainConfig(path);
    expect(config.model.languageModel.path).toBe("org/tiny-llama@v1.0");
    expect(config.tokenizer).toBe("org/tiny-llama");
    expect(config.model.encoders.vision.processor.path).toBe("org/tiny-clip");
    expect(config.model.encoders.vision.model.path).toBe(join(folder, "clip"));
  });

  it("prefers a local folder named like a Hub id", () => {
    mkdirSync(join(folder, "org", "local-model"), { recursive: true });
    const path = join(folder, "local.json");
    writeFileSync(path, JSON.stringify(withChange((c) => (c.tokenizer = "org/local-model"))));
    expect(loadTrainConfig(path).tokenizer).toBe(join(folder, "org", "local-model"));
  });

  it("resolves paths set by overrides against the config file", () => {
    const path = join(folder, "for-overrides.json");
    writeFileSync(path, JSON.stringify(VALID));
    const overrides = ["data.train=other/train.jsonl", "training.steps=3"].map((text) => parseConfigOverride(text, "--set"));
    const config = loadTrainConfig(path, { overrides });
    expect(config.data.train).toBe(join(folder, "other/train.jsonl"));
    expect(config.training.steps).toBe(3);
  });
});

describe("loadTrainConfig with YAML", () => {
  const folder = mkdtempSync(join(tmpdir(), "mm-config-yaml-"));
  const yaml = [
    "model:",
    "  languageModel:",
    "    config: { model_type: llama }",
    "  encoders:",
    "    vision:",
    "      model: { path: clip }",
    "      processor: { path: clip }",
    '      token: "<image>"',
    "tokenizer: tokenizer",
    "data:",
    "  train: data/captions.json",
    "training:",
    "  steps: 10",
    "  batchSize: 2",
    "  learningRate: 1.0e-3",
    "output: output",
    "",
  ];

  function writeYaml(name: string, lines: string[]): string {
    const path = join(folder, name);
    writeFileSync(path, lines.join("\n"));
    return path;
  }

  it.each(["config.yaml", "config.yml"])("reads %s like the JSON config", (name) => {
    const config = loadTrainConfig(writeYaml(name, yaml));
    expect(config).toEqual(loadTrainConfig(writeJson("same.json", VALID)));
  });

  function writeJson(name: string, value: unknown): string {
    const path = join(folder, name);
    writeFileSync(path, JSON.stringify(value));
    return path;
  }

  it("names the file, line and column of a syntax error", () => {
    const broken = [...yaml];
    broken[13] = "  batchSize: [2";
    const path = writeYaml("broken.yaml", broken);
    expect(() => loadTrainConfig(path)).toThrow(ConfigError);
    expect(() => loadTrainConfig(path)).toThrow(/^.*broken\.yaml:15:3: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a \]$/);
  });

  it("rejects a duplicate key", () => {
    const path = writeYaml("duplicate.yaml", [...yaml, "output: again"]);
    expect(() => loadTrainConfig(path)).toThrow(/duplicate\.yaml:18:1: invalid YAML: Map keys must be unique$/);
  });

  it("rejects a second document", () => {
    const path = writeYaml("two.yaml", [...yaml, "---", "seed: 1"]);
    expect(() => loadTrainConfig(path)).toThrow(/two\.yaml:18:1: invalid YAML: the file holds more than one YAML document/);
  });

  it("rejects an alias without its anchor", () => {
    const path = writeYaml("alias.yaml", [...yaml.slice(0, -1), "seed: *missing", ""]);
    expect(() => loadTrainConfig(path)).toThrow(/alias\.yaml: invalid YAML: Unresolved alias/);
  });

  it("validates YAML values with the same messages", () => {
    const path = writeYaml("typo.yaml", [...yaml.slice(0, 12), "  epochs: 2", ...yaml.slice(12)]);
    expect(() => loadTrainConfig(path)).toThrow(/typo\.yaml: unknown key "training\.epochs"; remove it or check its spelling$/);
    const wrongType = writeYaml("wrong-type.yaml", yaml.map((line) => line.replace("steps: 10", "steps: ten")));
    expect(() => loadTrainConfig(wrongType)).toThrow(/wrong-type\.yaml: "training\.steps": got "ten"; expected number, received string$/);
  });
});
