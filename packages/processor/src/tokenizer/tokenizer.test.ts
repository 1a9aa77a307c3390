import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, InputError, getLogLevel, setLogLevel, setLogSink, type LogSink } from "@mm/core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { LLAMA2_TOKENIZER_DIR, MISTRAL_TOKENIZER_DIR } from "./test-fixture-paths";
import { Tokenizer } from "./tokenizer";

const temporaryDirs: string[] = [];

/** Makes a tokenizer folder with the Llama 2 tokenizer.json and the given other files. */
function makeTokenizerDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "mm-tokenizer-"));
  temporaryDirs.push(dir);
  copyFileSync(join(LLAMA2_TOKENIZER_DIR, "tokenizer.json"), join(dir, "tokenizer.json"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function captureWarnings(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const sink: LogSink = (level, _scope, message) => {
    if (level === "warn") lines.push(message);
  };
  const previousSink = setLogSink(sink);
  const previousLevel = getLogLevel();
  setLogLevel("warn");
  return {
    lines,
    restore: () => {
      setLogSink(previousSink);
      setLogLevel(previousLevel);
    },
  };
}

afterEach(() => {
  while (temporaryDirs.length > 0) rmSync(temporaryDirs.pop()!, { recursive: true, force: true });
});

describe("Tokenizer with Llama 2", () => {
  let tokenizer: Tokenizer;
  beforeAll(() => {
    tokenizer = Tokenizer.fromPretrained(LLAMA2_TOKENIZER_DIR);
  });

  // Ids of Meta's Llama 2 tokenizer published by other projects. "Hello, my dog is cute" is
  // recorded in ColossalAI's model-zoo tests (LlamaTokenizerFast, hf-internal-testing/llama-tokenizer).
  // "Hello world!" and the "grabbed" to "🦙" rows are from the README and tests of llama-tokenizer-js
  // 1.2.2. The rows from "Hello world" on were pinned by another project with Hugging Face's
  // tokenizers library on the tokenizer.json of NousResearch/Llama-2-13b-hf.
  it.each([
    ["Hello", [1, 15043]],
    ["Hello, my dog is cute", [1, 15043, 29892, 590, 11203, 338, 274, 1082]],
    ["Hello world!", [1, 15043, 3186, 29991]],
    ["grabbed", [1, 2646, 1327, 287]],
    [" grabbed", [1, 29871, 2646, 1327, 287]],
    ["           grabbed", [1, 9651, 2646, 1327, 287]],
    ["\n", [1, 29871, 13]],
    [" \n", [1, 259, 13]],
    ["ax\n####\nboo", [1, 4853, 13, 4136, 13, 833, 29877]],
    ["镇", [1, 29871, 30411]],
    ["🦙", [1, 29871, 243, 162, 169, 156]],
    ["Hello world", [1, 15043, 3186]],
    [" Hello", [1, 29871, 15043]],
    ["hello", [1, 22172]],
    ["", [1]],
    ["  double  space", [1, 259, 3765, 29871, 2913]],
    ["tabs\tand\nnewlines", [1, 18859, 12, 392, 13, 1482, 9012]],
    ["你好", [1, 29871, 30919, 31076]],
    ["123456789", [1, 29871, 29896, 29906, 29941, 29946, 29945, 29953, 29955, 29947, 29929]],
    ["café naïve", [1, 274, 28059, 1055, 30085, 345]],
    [
      "don't you're I'll we've he'd it's",
      [1, 1016, 29915, 29873, 366, 29915, 276, 306, 29915, 645, 591, 29915, 345, 540, 29915, 29881, 372, 29915, 29879],
    ],
    [
      "a rocket 🚀 and a cat 🐈 with a beaker 🧪",
      [
        1, 263, 696, 3522, 29871, 243, 162, 157, 131, 322, 263, 6635, 29871, 243, 162, 147, 139, 411, 263, 367, 5790, 29871,
        243, 162, 170, 173,
      ],
    ],
  ])("encode %j matches Llama 2 ids", (text, expected) => {
    expect(tokenizer.encode(text)).toEqual(expected);
  });

  it("encode without special tokens drops BOS", () => {
    expect(tokenizer.encode("Hello", { addSpecialTokens: false })).toEqual([15043]);
  });

  it("decode round-trips text", () => {
    const text = "The llama (🦙) is a domesticated South American camelid.\n你好";
    expect(tokenizer.decode(tokenizer.encode(text), { skipSpecialTokens: true })).toBe(text);
  });

  it("decode keeps or skips BOS", () => {
    expect(tokenizer.decode([1, 15043, 3186, 29991], { skipSpecialTokens: true })).toBe("Hello world!");
    expect(tokenizer.decode([1, 15043], { skipSpecialTokens: false })).toMatch(/^<s>/);
  });

  it("decode of no ids is empty", () => {
    expect(tokenizer.decode([])).toBe("");
  });

  it("tokenToId and idToToken", () => {
    expect(tokenizer.tokenToId("▁Hello")).toBe(15043);
    expect(tokenizer.idToToken(15043)).toBe("▁Hello");
    expect(tokenizer.tokenToId("<0x0A>")).toBe(13);
    expect(tokenizer.tokenToId("not-a-token")).toBeUndefined();
    expect(tokenizer.idToToken(40000)).toBeUndefined();
  });

  it("special token ids and vocabSize", () => {
    expect(tokenizer.bosTokenId).toBe(1);
    expect(tokenizer.eosTokenId).toBe(2);
    expect(tokenizer.vocabSize).toBe(32000);
  });
});

describe("Tokenizer.fromPretrained", () => {
  it("pad falls back to EOS with a warning", () => {
    const warnings = captureWarnings();
    try {
      const tokenizer = Tokenizer.fromPretrained(LLAMA2_TOKENIZER_DIR);
      expect(tokenizer.padTokenId).toBe(2);
    } finally {
      warnings.restore();
    }
    expect(warnings.lines).toHaveLength(1);
    expect(warnings.lines[0]).toMatch(/no pad_token; padding with the EOS token "<\/s>" \(id 2\)/);
  });

  it("pad_token from config is used without warning", () => {
    const dir = makeTokenizerDir({ "tokenizer_config.json": JSON.stringify({ eos_token: "</s>", pad_token: "<unk>" }) });
    const warnings = captureWarnings();
    try {
      expect(Tokenizer.fromPretrained(dir).padTokenId).toBe(0);
    } finally {
      warnings.restore();
    }
    expect(warnings.lines).toEqual([]);
  });

  it("special_tokens_map overrides config", () => {
    const dir = makeTokenizerDir({
      "tokenizer_config.json": JSON.stringify({ bos_token: "<s>", eos_token: "</s>", pad_token: null }),
      "special_tokens_map.json": JSON.stringify({
        pad_token: { content: "<unk>", lstrip: false, normalized: false, rstrip: false, single_word: false },
        eos_token: "<s>",
      }),
    });
    const tokenizer = Tokenizer.fromPretrained(dir);
    expect(tokenizer.padTokenId).toBe(0);
    expect(tokenizer.eosTokenId).toBe(1);
    expect(tokenizer.bosTokenId).toBe(1);
  });

  it("paddingSide defaults to right", () => {
    // The Mistral tokenizer_config.json has no padding_side key.
    const config = JSON.parse(readFileSync(join(MISTRAL_TOKENIZER_DIR, "tokenizer_config.json"), "utf8"));
    expect(config).not.toHaveProperty("padding_side");
    expect(Tokenizer.fromPretrained(MISTRAL_TOKENIZER_DIR).paddingSide).toBe("right");
  });

  it("paddingSide from config and options", () => {
    const dir = makeTokenizerDir({ "tokenizer_config.json": JSON.stringify({ eos_token: "</s>", padding_side: "left" }) });
    expect(Tokenizer.fromPretrained(dir).paddingSide).toBe("left");
    expect(Tokenizer.fromPretrained(dir, { paddingSide: "right" }).paddingSide).toBe("right");
  });

  it("truncationSide from config and options", () => {
    expect(Tokenizer.fromPretrained(MISTRAL_TOKENIZER_DIR).truncationSide).toBe("right");
    const dir = makeTokenizerDir({ "tokenizer_config.json": JSON.stringify({ eos_token: "</s>", truncation_side: "left" }) });
    expect(Tokenizer.fromPretrained(dir).truncationSide).toBe("left");
    expect(Tokenizer.fromPretrained(dir, { truncationSide: "right" }).truncationSide).toBe("right");
  });

  it("save keeps truncation_side", () => {
    const dir = makeTokenizerDir({ "tokenizer_config.json": JSON.stringify({ eos_token: "</s>", truncation_side: "left" }) });
    const saved = mkdtempSync(join(tmpdir(), "mm-tokenizer-"));
    temporaryDirs.push(saved);
    Tokenizer.fromPretrained(dir).save(saved);
    expect(JSON.parse(readFileSync(join(saved, "tokenizer_config.json"), "utf8")).truncation_side).toBe("left");
    expect(Tokenizer.fromPretrained(saved).truncationSide).toBe("left");
  });

  it("rejects an invalid truncation_side", () => {
    const dir = makeTokenizerDir({ "tokenizer_config.json": JSON.stringify({ truncation_side: "both" }) });
    expect(() => Tokenizer.fromPretrained(dir)).toThrow(ConfigError);
    expect(() => Tokenizer.fromPretrained(dir)).toThrow(/"truncation_side" must be "left" or "right", found "both"/);
  });

  it("rejects an invalid padding_side", () => {
    const dir = makeTokenizerDir({ "tokenizer_config.json": JSON.stringify({ padding_side: "middle" }) });
    expect(() => Tokenizer.fromPretrained(dir)).toThrow(ConfigError);
    expect(() => Tokenizer.fromPretrained(dir)).toThrow(/"padding_side" must be "left" or "right", found "middle"/);
  });

  it("rejects a special token outside the vocabulary", () => {
    const dir = makeTokenizerDir({ "tokenizer_config.json": JSON.stringify({ pad_token: "<pad>" }) });
    expect(() => Tokenizer.fromPretrained(dir)).toThrow(ConfigError);
    expect(() => Tokenizer.fromPretrained(dir)).toThrow(/pad_token "<pad>" is not in the vocabulary of tokenizer.json/);
  });

  it("rejects a special token of the wrong type", () => {
    const dir = makeTokenizerDir({ "tokenizer_config.json": JSON.stringify({ eos_token: 2 }) });
    expect(() => Tokenizer.fromPretrained(dir)).toThrow(/tokenizer_config.json: "eos_token" must be a token string/);
  });

  it("missing tokenizer.json names the path", () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-tokenizer-"));
    temporaryDirs.push(dir);
    const call = () => Tokenizer.fromPretrained(dir);
    expect(call).toThrow(InputError);
    expect(call).toThrow(new RegExp(`tokenizer.json not found at ${join(dir, "tokenizer.json")}; pass the folder`));
  });

  it("invalid tokenizer.json names the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-tokenizer-"));
    temporaryDirs.push(dir);
    writeFileSync(join(dir, "tokenizer.json"), "{ not json");
    const call = () => Tokenizer.fromPretrained(dir);
    expect(call).toThrow(InputError);
    expect(call).toThrow(/tokenizer.json is not valid JSON/);
  });

  it("invalid tokenizer_config.json names the file", () => {
    const dir = makeTokenizerDir({ "tokenizer_config.json": "[1, 2" });
    expect(() => Tokenizer.fromPretrained(dir)).toThrow(/tokenizer_config.json is not valid JSON/);
  });

  it("tokenizer.json without a model is rejected", () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-tokenizer-"));
    temporaryDirs.push(dir);
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify({ added_tokens: [] }));
    expect(() => Tokenizer.fromPretrained(dir)).toThrow(/has no "model" object/);
  });

  it("missing tokenizer_config.json warns", () => {
    const dir = makeTokenizerDir({});
    const warnings = captureWarnings();
    let tokenizer: Tokenizer;
    try {
      tokenizer = Tokenizer.fromPretrained(dir);
    } finally {
      warnings.restore();
    }
    expect(tokenizer.eosTokenId).toBeNull();
    expect(tokenizer.padTokenId).toBeNull();
    expect(warnings.lines[0]).toMatch(/has no tokenizer_config.json/);
    expect(warnings.lines[1]).toMatch(/names neither pad_token nor eos_token/);
  });
});
