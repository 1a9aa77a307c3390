import { ConfigError } from "@mm/core";
import { describe, expect, it } from "vitest";
import { applyConfigOverrides, parseConfigOverride } from "./config-overrides";
import { parseTrainConfig } from "./load-config";

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

function withOverrides(...texts: string[]) {
  return parseTrainConfig(VALID, "config.json", texts.map((text) => parseConfigOverride(text, "--set")));
}

describe("parseConfigOverride", () => {
  it.each([
    ["training.steps=10", ["training", "steps"], 10],
    ["training.learningRate=1e-4", ["training", "learningRate"], 1e-4],
    ["data.skipBadRecords=true", ["data", "skipBadRecords"], true],
    ["trainable=projector", ["trainable"], "projector"],
    ["model.encoders.vision.token=<img>", ["model", "encoders", "vision", "token"], "<img>"],
    ['tokenizer="10"', ["tokenizer"], "10"],
    ["x=[1,2]", ["x"], [1, 2]],
    ['x={"a":1}', ["x"], { a: 1 }],
    ["x=null", ["x"], null],
    ["x=", ["x"], ""],
    ["x=a=b", ["x"], "a=b"],
    ["tokenizer=org/name@v1.0", ["tokenizer"], "org/name@v1.0"],
  ])("parses %s", (text, path, value) => {
    const override = parseConfigOverride(text, "--set");
    expect(override.path).toEqual(path);
    expect(override.value).toEqual(value);
    expect(override.label).toBe(`--set ${text}`);
  });

  it.each([
    ["training.steps", /^--set training\.steps: expected KEY=VALUE, e\.g\. training\.steps=10$/],
    ["=10", /^--set =10: expected KEY=VALUE/],
    ["training..steps=1", /^--set training\.\.steps=1: the key "training\.\.steps" has an empty part; write a dotted path such as training\.steps$/],
    [".steps=1", /the key "\.steps" has an empty part/],
  ])("rejects %s", (text, message) => {
    expect(() => parseConfigOverride(text, "--set")).toThrow(ConfigError);
    expect(() => parseConfigOverride(text, "--set")).toThrow(message);
  });
});

describe("applyConfigOverrides", () => {
  it("changes values and leaves the input alone", () => {
    const config = withOverrides("training.steps=3", "trainable=projector", "model.encoders.vision.token=<img>", "training.maxGradNorm=1.5");
    expect(config.training.steps).toBe(3);
    expect(config.training.maxGradNorm).toBe(1.5);
    expect(config.trainable).toBe("projector");
    expect(config.model.encoders.vision.token).toBe("<img>");
    expect(VALID.training.steps).toBe(10);
  });

  it("applies overrides in order", () => {
    expect(withOverrides("training.steps=3", "training.steps=4").training.steps).toBe(4);
  });

  it("creates missing sections", () => {
    const config = withOverrides("trainable.llm=false", 'trainable.encoders.vision=[false,true]');
    expect(config.trainable).toEqual({ llm: false, encoders: { vision: [false, true] } });
  });

  it("sets an array element by index", () => {
    const config = withOverrides("trainable.llm=false", "trainable.encoders.vision=[false,false]", "trainable.encoders.vision.1=true");
    expect(config.trainable).toEqual({ llm: false, encoders: { vision: [false, true] } });
  });

  it("removes a key set to null", () => {
    const config = withOverrides("model.languageModel.config=null", "model.languageModel.path=org/tiny-llama");
    expect(config.model.languageModel).toEqual({ path: "org/tiny-llama" });
  });

  it("treats __proto__ as an ordinary key", () => {
    const raw = applyConfigOverrides(VALID, [parseConfigOverride('__proto__.polluted="yes"', "--set")], "config.json") as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(raw)).toBe(Object.prototype);
    expect(() => withOverrides('__proto__.polluted="yes"')).toThrow(/^config\.json: unknown key "__proto__"; remove it or check its spelling \(from --set __proto__\.polluted="yes"\)$/);
  });

  it.each([
    ["an unknown key", ["training.epochs=2"], /^config\.json: unknown key "training\.epochs"; remove it or check its spelling \(from --set training\.epochs=2\)$/],
    ["a wrong type", ["training.steps=ten"], /^config\.json: "training\.steps": got "ten"; expected number, received string \(from --set training\.steps=ten\)$/],
    ["a value outside an enum", ["training.schedule=step"], /"training\.schedule": got "step"; allowed: "constant", "linear", "cosine" \(from --set training\.schedule=step\)$/],
    ["a bad preset", ["trainable=encoder"], /"trainable": got "encoder"; use "projector", "projector\+llm", "all" or .* \(from --set trainable=encoder\)$/],
    ["a section replaced by a bad value", ['training={"steps":"x"}'], /"training\.steps": got "x"; expected number, received string \(from --set training=\{"steps":"x"\}\)$/],
    ["a removed required key", ["tokenizer=null"], /"tokenizer": missing; expected string, received undefined \(from --set tokenizer=null\)$/],
  ])("names the override in %s", (_name, texts, message) => {
    expect(() => withOverrides(...texts)).toThrow(ConfigError);
    expect(() => withOverrides(...texts)).toThrow(message);
  });

  it("names no override for an error elsewhere", () => {
    const raw = { ...VALID, training: { ...VALID.training, batchSize: "2" } };
    const overrides = [parseConfigOverride("training.steps=3", "--set")];
    expect(() => parseTrainConfig(raw, "config.json", overrides)).toThrow(/^config\.json: "training\.batchSize": got "2"; expected number, received string$/);
  });

  it("rejects a key inside a number", () => {
    const message = /^config\.json: --set training\.steps\.value=1: "training\.steps" is 10, not an object, so it has no key "value"$/;
    expect(() => withOverrides("training.steps.value=1")).toThrow(ConfigError);
    expect(() => withOverrides("training.steps.value=1")).toThrow(message);
  });

  it("rejects an array index out of range", () => {
    const texts = ["trainable.llm=false", "trainable.encoders.vision=[false,true]", "trainable.encoders.vision.2=true"];
    expect(() => withOverrides(...texts)).toThrow(/--set trainable\.encoders\.vision\.2=true: "2" is not an index of the 2-element array there \(use 0 to 1\); set the whole array instead/);
  });

  it("rejects null for an array element", () => {
    const texts = ["trainable.llm=false", "trainable.encoders.vision=[false,true]", "trainable.encoders.vision.0=null"];
    expect(() => withOverrides(...texts)).toThrow(/null cannot remove an array element; set the whole array instead/);
  });

  it("rejects a config that is not an object", () => {
    expect(() => applyConfigOverrides([1], [parseConfigOverride("seed=1", "--set")], "config.json")).toThrow(/^config\.json: the config is \[1\], not an object, so --set seed=1 cannot be applied$/);
  });
});
