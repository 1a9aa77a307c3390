import { ConfigError, InputError, getLogLevel, setLogLevel, type LogLevel } from "@mm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLAMA2_TOKENIZER_DIR } from "../tokenizer/test-fixture-paths";
import { Tokenizer } from "../tokenizer/tokenizer";
import { buildBatch } from "./build-batch";
import { tokenizeConversation, type ConversationTurn } from "./conversation";
import { expandSample } from "./expand-modality-tokens";

// Llama 2 ids: "USER:" at the start of a piece of text is [3148, 1001, 29901] and "\nASSISTANT:"
// is [13, 22933, 9047, 13566, 29901], as in the LLaVA-1.5 prompt ids that vLLM documents.
const USER = [3148, 1001, 29901];
const ASSISTANT = [13, 22933, 9047, 13566, 29901];
const EOS = 2;
const IMAGE = 32000;

/** Positions after each "\nASSISTANT:" up to and including the next EOS are supervised. */
function expectedLabels(ids: readonly number[]): number[] {
  const labels = ids.map(() => -100);
  for (let start = 0; start + ASSISTANT.length <= ids.length; start++) {
    const isAssistant = ASSISTANT.every((id, offset) => ids[start + offset] === id);
    if (!isAssistant) continue;
    for (let position = start + ASSISTANT.length; position < ids.length; position++) {
      labels[position] = ids[position];
      if (ids[position] === EOS) break;
    }
  }
  return labels;
}

function supervisedText(tokenizer: Tokenizer, ids: readonly number[], labels: readonly number[]): string {
  const kept = ids.filter((_, position) => labels[position] !== -100);
  return tokenizer.decode(kept, { skipSpecialTokens: false });
}

let previousLogLevel: LogLevel;
let tokenizer: Tokenizer;
beforeAll(() => {
  previousLogLevel = getLogLevel();
  setLogLevel("error");
  tokenizer = Tokenizer.fromPretrained(LLAMA2_TOKENIZER_DIR);
  tokenizer.addModalityTokens({ vision: "<image>" });
});
afterAll(() => setLogLevel(previousLogLevel));

describe("tokenizeConversation", () => {
  const oneRound: ConversationTurn[] = [
    { from: "human", value: "<image>\nWhat is in the picture?" },
    { from: "gpt", value: "A cat on a sofa." },
  ];

  it("one round matches whole-text encoding", () => {
    const { input_ids } = tokenizeConversation(tokenizer, oneRound);
    const text = "USER: <image>\nWhat is in the picture?\nASSISTANT: A cat on a sofa.</s>";
    expect(input_ids).toEqual(tokenizer.encode(text));
    expect(input_ids.slice(0, 8)).toEqual([1, ...USER, 29871, IMAGE, 29871, 13]);
    expect(input_ids.at(-1)).toBe(EOS);
  });

  it("one round supervises only the reply", () => {
    const { input_ids, labels } = tokenizeConversation(tokenizer, oneRound);
    expect(labels).toHaveLength(input_ids.length);
    expect(labels).toEqual(expectedLabels(input_ids));
    expect(supervisedText(tokenizer, input_ids, labels)).toBe("A cat on a sofa.</s>");
    expect(labels[input_ids.indexOf(IMAGE)]).toBe(-100);
    expect(labels[0]).toBe(-100);
  });

  it("two rounds", () => {
    const turns: ConversationTurn[] = [
      ...oneRound,
      { from: "human", value: "What colour is it?" },
      { from: "gpt", value: "Grey, with white paws." },
    ];
    const { input_ids, labels } = tokenizeConversation(tokenizer, turns);
    const text =
      "USER: <image>\nWhat is in the picture?\nASSISTANT: A cat on a sofa.</s>" +
      "USER: What colour is it?\nASSISTANT: Grey, with white paws.</s>";
    expect(input_ids).toEqual(tokenizer.encode(text));
    expect(labels).toEqual(expectedLabels(input_ids));
    expect(labels.filter((label) => label === EOS)).toHaveLength(2);
    expect(supervisedText(tokenizer, input_ids, labels)).toBe("A cat on a sofa.</s> Grey, with white paws.</s>");
  });

  it("final human turn is a generation prompt", () => {
    const { input_ids, labels } = tokenizeConversation(tokenizer, [{ from: "human", value: "<image>\nDescribe it." }]);
    expect(input_ids).toEqual(tokenizer.encode("USER: <image>\nDescribe it.\nASSISTANT:"));
    expect(input_ids.slice(-ASSISTANT.length)).toEqual(ASSISTANT);
    expect(labels.every((label) => label === -100)).toBe(true);
  });

  it("custom template with a system text", () => {
    const template = { system: "A chat.\n", humanPrefix: "### Human: ", humanSuffix: "\n", assistantPrefix: "### Assistant: " };
    const { input_ids, labels } = tokenizeConversation(
      tokenizer,
      [
        { from: "human", value: "Hi" },
        { from: "gpt", value: "Hello!" },
      ],
      { template },
    );
    expect(input_ids).toEqual(tokenizer.encode("A chat.\n### Human: Hi\n### Assistant: Hello!</s>"));
    expect(supervisedText(tokenizer, input_ids, labels)).toBe("Hello!</s>");
  });

  it("tokenizer without BOS starts with the text", () => {
    const noBos = { ...bindTokenizer(tokenizer), bosTokenId: null };
    const { input_ids } = tokenizeConversation(noBos, oneRound);
    expect(input_ids.slice(0, 3)).toEqual(USER);
  });

  it("rejects an empty conversation", () => {
    expect(() => tokenizeConversation(tokenizer, [])).toThrow(InputError);
  });

  it("rejects a conversation starting with gpt", () => {
    const call = () => tokenizeConversation(tokenizer, [{ from: "gpt", value: "Hi" }]);
    expect(call).toThrow(InputError);
    expect(call).toThrow(/conversation turn 0: expected from "human", found "gpt"/);
  });

  it("rejects two human turns in a row", () => {
    const call = () =>
      tokenizeConversation(tokenizer, [
        { from: "human", value: "a" },
        { from: "human", value: "b" },
      ]);
    expect(call).toThrow(/conversation turn 1: expected from "gpt", found "human"/);
  });

  it("rejects a tokenizer without EOS", () => {
    const noEos = { ...bindTokenizer(tokenizer), eosTokenId: null };
    expect(() => tokenizeConversation(noEos, oneRound)).toThrow(ConfigError);
  });
});

describe("conversation to batch", () => {
  it("expands 576 image features and pads", () => {
    const conversation = tokenizeConversation(tokenizer, [
      { from: "human", value: "<image>\nWhat is in the picture?" },
      { from: "gpt", value: "A cat." },
    ]);
    const expanded = expandSample(conversation, tokenizer.modalityTokenIds, { vision: [576] }, 0);
    const short = tokenizeConversation(tokenizer, [
      { from: "human", value: "Hi" },
      { from: "gpt", value: "Hello." },
    ]);

    const batch = buildBatch([expanded, short], {
      padTokenId: tokenizer.padTokenId!,
      paddingSide: "left",
      modalityTokenIds: tokenizer.modalityTokenIds,
    });

    const length = conversation.input_ids.length + 575;
    expect(batch.shape).toEqual([2, length]);
    const firstRow = Array.from(batch.input_ids.subarray(0, length));
    expect(firstRow.filter((id) => id === IMAGE)).toHaveLength(576);
    const firstLabels = Array.from(batch.labels.subarray(0, length));
    expect(firstLabels.filter((label, position) => firstRow[position] === IMAGE && label !== -100)).toEqual([]);
    const secondMask = Array.from(batch.attention_mask.subarray(length));
    expect(secondMask.indexOf(1)).toBe(length - short.input_ids.length);
    expect(batch.input_ids[length]).toBe(EOS);
  });
});

function bindTokenizer(source: Tokenizer) {
  return {
    encode: source.encode.bind(source),
    bosTokenId: source.bosTokenId,
    eosTokenId: source.eosTokenId,
    modalityTokenIds: source.modalityTokenIds,
  };
}
