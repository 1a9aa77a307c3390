// Writes tokenizer.json and tokenizer_config.json for the Llama 2 tokenizer into this folder.
// The vocabulary (in id order) and the merges (in rank order) come from llama-tokenizer-js 1.2.2,
// which stores them losslessly from the tokenizer.json distributed with LLaMA. The surrounding
// pipeline (normalizer, post_processor, decoder, BPE options) is the legacy-mode layout of Hugging
// Face's tokenizer.json for SentencePiece BPE tokenizers; ../mistral/tokenizer.json has the same.
// Run from packages/processor: `node test-fixtures/tokenizers/llama2/build.mjs`.
import { writeFileSync } from "node:fs";
import llamaTokenizer from "llama-tokenizer-js";

const outputDir = new URL(".", import.meta.url);

const vocabById = llamaTokenizer.vocabById;
if (vocabById.length !== 32000) throw new Error(`expected 32000 vocabulary entries, got ${vocabById.length}`);

const vocab = {};
vocabById.forEach((token, id) => {
  vocab[token] = id;
});

// The merges Map keys are "left right" strings, inserted in rank order.
const merges = [...llamaTokenizer.merges.keys()];

const specialToken = (id, content) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});

const tokenizerJson = {
  version: "1.0",
  truncation: null,
  padding: null,
  added_tokens: [specialToken(0, "<unk>"), specialToken(1, "<s>"), specialToken(2, "</s>")],
  normalizer: {
    type: "Sequence",
    normalizers: [
      { type: "Prepend", prepend: "▁" },
      { type: "Replace", pattern: { String: " " }, content: "▁" },
    ],
  },
  pre_tokenizer: null,
  post_processor: {
    type: "TemplateProcessing",
    single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
    pair: [
      { SpecialToken: { id: "<s>", type_id: 0 } },
      { Sequence: { id: "A", type_id: 0 } },
      { SpecialToken: { id: "<s>", type_id: 1 } },
      { Sequence: { id: "B", type_id: 1 } },
    ],
    special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } },
  },
  decoder: {
    type: "Sequence",
    decoders: [
      { type: "Replace", pattern: { String: "▁" }, content: " " },
      { type: "ByteFallback" },
      { type: "Fuse" },
      { type: "Strip", content: " ", start: 1, stop: 0 },
    ],
  },
  model: {
    type: "BPE",
    dropout: null,
    unk_token: "<unk>",
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: true,
    byte_fallback: true,
    vocab,
    merges,
  },
};

const addedTokensDecoder = {};
for (const token of tokenizerJson.added_tokens) {
  const { id, ...rest } = token;
  addedTokensDecoder[String(id)] = rest;
}

const tokenizerConfig = {
  add_bos_token: true,
  add_eos_token: false,
  added_tokens_decoder: addedTokensDecoder,
  bos_token: "<s>",
  clean_up_tokenization_spaces: false,
  eos_token: "</s>",
  legacy: true,
  pad_token: null,
  padding_side: "right",
  tokenizer_class: "LlamaTokenizer",
  unk_token: "<unk>",
};

writeFileSync(new URL("tokenizer.json", outputDir), JSON.stringify(tokenizerJson));
writeFileSync(new URL("tokenizer_config.json", outputDir), `${JSON.stringify(tokenizerConfig, null, 2)}\n`);
console.log(`wrote ${vocabById.length} tokens and ${merges.length} merges`);
