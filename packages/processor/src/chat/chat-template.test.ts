import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, InputError, getLogLevel, setLogLevel, type LogLevel } from "@mm/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GEMMA3_TOKENIZER_DIR, LLAMA2_TOKENIZER_DIR, LLAMA3_TOKENIZER_DIR, QWEN3_TOKENIZER_DIR } from "../tokenizer/test-fixture-paths";
import { Tokenizer } from "../tokenizer/tokenizer";
import type { ChatMessage } from "./chat-template";

const HI: ChatMessage[] = [{ role: "user", content: "Hi" }];

let previousLogLevel: LogLevel;
beforeAll(() => {
  previousLogLevel = getLogLevel();
  setLogLevel("error");
});
afterAll(() => setLogLevel(previousLogLevel));

describe("applyChatTemplate with Llama 3", () => {
  let tokenizer: Tokenizer;
  beforeAll(() => {
    tokenizer = Tokenizer.fromPretrained(LLAMA3_TOKENIZER_DIR);
  });

  it("renders the documented prompt format", () => {
    const text = tokenizer.applyChatTemplate(HI, { addGenerationPrompt: true, tokenize: false });
    expect(text).toBe(
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>" + "<|start_header_id|>assistant<|end_header_id|>\n\n",
    );
  });

  it("system turn comes first", () => {
    const messages: ChatMessage[] = [{ role: "system", content: "Be brief." }, ...HI];
    expect(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true, tokenize: false })).toBe(
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" +
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    );
  });

  it("tokenized prompt matches Llama 3.2 ids", () => {
    // Ids of distributed-llama's tokenizer test for Llama 3.2 1B Instruct; the template writes
    // the BOS (128000), so encoding adds no special tokens.
    const ids = tokenizer.applyChatTemplate([{ role: "user", content: "hello" }], { addGenerationPrompt: true });
    expect(ids).toEqual([128000, 128006, 882, 128007, 271, 15339, 128009, 128006, 78191, 128007, 271]);
  });

  it("this template always adds the assistant header", () => {
    // The template in this package ignores add_generation_prompt, as the first Llama 3 Instruct
    // upload did; later ones wrap the header in `{% if add_generation_prompt %}`.
    const withPrompt = tokenizer.applyChatTemplate(HI, { addGenerationPrompt: true, tokenize: false });
    expect(tokenizer.applyChatTemplate(HI, { addGenerationPrompt: false, tokenize: false })).toBe(withPrompt);
  });

  it("trims message content", () => {
    const padded = tokenizer.applyChatTemplate([{ role: "user", content: "  Hi\n" }], { tokenize: false });
    expect(padded).toBe(tokenizer.applyChatTemplate(HI, { tokenize: false }));
  });
});

describe("applyChatTemplate with Qwen3", () => {
  let tokenizer: Tokenizer;
  beforeAll(() => {
    tokenizer = Tokenizer.fromPretrained(QWEN3_TOKENIZER_DIR);
  });

  it("renders the ChatML format", () => {
    expect(tokenizer.applyChatTemplate(HI, { addGenerationPrompt: true, tokenize: false })).toBe(
      "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
    );
    expect(tokenizer.applyChatTemplate(HI, { tokenize: false })).toBe("<|im_start|>user\nHi<|im_end|>\n");
  });

  it("tokenized prompt matches Qwen3 ids", () => {
    // Ids that another project's test pins for this prompt with a Qwen3 checkpoint.
    const ids = tokenizer.applyChatTemplate([{ role: "user", content: "Hello" }], { addGenerationPrompt: true });
    expect(ids).toEqual([151644, 872, 198, 9707, 151645, 198, 151644, 77091, 198]);
  });

  it("enable_thinking false adds an empty think block", () => {
    const text = tokenizer.applyChatTemplate(HI, {
      addGenerationPrompt: true,
      tokenize: false,
      templateVariables: { enable_thinking: false },
    });
    expect(text).toBe("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  });

  it("drops reasoning of earlier turns", () => {
    const messages: ChatMessage[] = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "<think>\nA greeting.\n</think>\n\nHello!" },
      { role: "user", content: "Bye" },
    ];
    expect(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true, tokenize: false })).toBe(
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n" +
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n",
    );
  });

  it("keeps reasoning of the final answer", () => {
    const messages: ChatMessage[] = [...HI, { role: "assistant", content: "<think>\nA greeting.\n</think>\n\nHello!" }];
    expect(tokenizer.applyChatTemplate(messages, { tokenize: false })).toBe(
      "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nA greeting.\n</think>\n\nHello!<|im_end|>\n",
    );
  });

  it("final answer without reasoning gets an empty think block", () => {
    const messages: ChatMessage[] = [...HI, { role: "assistant", content: "Hello!" }];
    expect(tokenizer.applyChatTemplate(messages, { tokenize: false })).toBe(
      "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello!<|im_end|>\n",
    );
  });
});

describe("applyChatTemplate with Gemma 3", () => {
  let tokenizer: Tokenizer;
  beforeAll(() => {
    tokenizer = Tokenizer.fromPretrained(GEMMA3_TOKENIZER_DIR);
  });

  it("renders the documented prompt format", () => {
    expect(tokenizer.applyChatTemplate(HI, { addGenerationPrompt: true, tokenize: false })).toBe(
      "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
    );
    expect(tokenizer.applyChatTemplate(HI, { tokenize: false })).toBe("<bos><start_of_turn>user\nHi<end_of_turn>\n");
  });

  it("tokenized prompt matches gemma-3-4b-it ids", () => {
    // Another project's Gemma 3 test feeds these ids, up to "model", to gemma-3-4b-it; the
    // generation prompt ends with "\n" (107).
    const ids = tokenizer.applyChatTemplate([{ role: "user", content: "why is the sky blue" }], { addGenerationPrompt: true });
    expect(ids).toEqual([2, 105, 2364, 107, 36425, 563, 506, 7217, 3730, 106, 107, 105, 4368, 107]);
  });

  it("system text joins the first user turn", () => {
    const messages: ChatMessage[] = [
      { role: "system", content: "Be brief." },
      ...HI,
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "Bye" },
    ];
    expect(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true, tokenize: false })).toBe(
      "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n" +
        "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n",
    );
  });

  it("image content part becomes <start_of_image>", () => {
    const messages: ChatMessage[] = [{ role: "user", content: [{ type: "image" }, { type: "text", text: "What is it?" }] }];
    expect(tokenizer.applyChatTemplate(messages, { tokenize: false })).toBe(
      "<bos><start_of_turn>user\n<start_of_image>What is it?<end_of_turn>\n",
    );
  });

  it("raise_exception becomes an InputError", () => {
    const call = () => tokenizer.applyChatTemplate([...HI, ...HI], { tokenize: false });
    expect(call).toThrow(InputError);
    expect(call).toThrow(/tokenizer_config.json: rendering the chat template failed: Conversation roles must alternate user\/assistant/);
  });
});

describe("applyChatTemplate template selection", () => {
  const temporaryDirs: string[] = [];
  afterEach(() => {
    while (temporaryDirs.length > 0) rmSync(temporaryDirs.pop()!, { recursive: true, force: true });
  });

  /** Makes a folder with the Llama 2 tokenizer.json and the given tokenizer_config.json and files. */
  function makeTokenizer(config: Record<string, unknown>, files: Record<string, string> = {}): Tokenizer {
    const dir = mkdtempSync(join(tmpdir(), "mm-chat-"));
    temporaryDirs.push(dir);
    copyFileSync(join(LLAMA2_TOKENIZER_DIR, "tokenizer.json"), join(dir, "tokenizer.json"));
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ bos_token: "<s>", eos_token: "</s>", ...config }));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return Tokenizer.fromPretrained(dir);
  }

  const NAMED = [
    { name: "default", template: "default:{{ messages[0].content }}" },
    { name: "tool_use", template: "tools:{{ messages[0].content }}" },
  ];

  it("named list picks default", () => {
    expect(makeTokenizer({ chat_template: NAMED }).applyChatTemplate(HI, { tokenize: false })).toBe("default:Hi");
  });

  it("chatTemplate picks a named template", () => {
    const tokenizer = makeTokenizer({ chat_template: NAMED });
    expect(tokenizer.applyChatTemplate(HI, { tokenize: false, chatTemplate: "tool_use" })).toBe("tools:Hi");
  });

  it("chatTemplate source overrides the folder's", () => {
    const tokenizer = makeTokenizer({ chat_template: "folder" });
    expect(tokenizer.applyChatTemplate(HI, { tokenize: false, chatTemplate: "given:{{ messages | length }}" })).toBe("given:1");
  });

  it("list without default needs a name", () => {
    const tokenizer = makeTokenizer({ chat_template: [NAMED[1]] });
    const call = () => tokenizer.applyChatTemplate(HI, { tokenize: false });
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(/"chat_template" lists the templates "tool_use" but none named "default"/);
  });

  it("malformed chat_template is rejected", () => {
    const call = () => makeTokenizer({ chat_template: [{ name: "default" }] }).applyChatTemplate(HI, { tokenize: false });
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(/"chat_template" must be a string or a list of \{"name", "template"\} objects/);
  });

  it("missing template is a ConfigError", () => {
    const call = () => makeTokenizer({}).applyChatTemplate(HI);
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(/tokenizer_config.json has no "chat_template"; pass the Jinja template as the chatTemplate option/);
  });

  it("unparsable template is a ConfigError", () => {
    const call = () => makeTokenizer({ chat_template: "{% for m in messages %}{{ m.content }}" }).applyChatTemplate(HI);
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(/the chat template does not parse/);
  });

  it("chat_template.jinja overrides the config and is saved", () => {
    const tokenizer = makeTokenizer({ chat_template: "config" }, { "chat_template.jinja": "file:{{ messages[0].content }}" });
    expect(tokenizer.applyChatTemplate(HI, { tokenize: false })).toBe("file:Hi");

    const saved = mkdtempSync(join(tmpdir(), "mm-chat-saved-"));
    temporaryDirs.push(saved);
    tokenizer.save(saved);
    expect(readFileSync(join(saved, "chat_template.jinja"), "utf8")).toBe("file:{{ messages[0].content }}");
    expect(Tokenizer.fromPretrained(saved).applyChatTemplate(HI, { tokenize: false })).toBe("file:Hi");
  });

  it("template sees special tokens and variables", () => {
    const template =
      "{{ bos_token }}|{{ eos_token }}|{{ unk_token }}|{% if add_generation_prompt %}prompt{% else %}none{% endif %}|{{ topic }}";
    const tokenizer = makeTokenizer({ chat_template: template, unk_token: "<unk>" });
    expect(tokenizer.applyChatTemplate(HI, { tokenize: false, templateVariables: { topic: "cats" } })).toBe("<s>|</s>|<unk>|none|cats");
    const overridden = tokenizer.applyChatTemplate(HI, { tokenize: false, addGenerationPrompt: true, templateVariables: { eos_token: "E" } });
    expect(overridden).toBe("<s>|E|<unk>|prompt|");
  });

  it("tokenize encodes without adding BOS", () => {
    const tokenizer = makeTokenizer({ chat_template: "{{ bos_token }}Hello" });
    // Llama 2 ids: <s> 1, "▁Hello" 15043; the template's BOS is the only one.
    expect(tokenizer.applyChatTemplate(HI)).toEqual([1, 15043]);
  });

  it("raise_exception message reaches the caller", () => {
    const tokenizer = makeTokenizer({ chat_template: "{{ raise_exception('Only user messages are supported') }}" });
    expect(() => tokenizer.applyChatTemplate(HI)).toThrow(/rendering the chat template failed: Only user messages are supported/);
  });

  it("rejects a message without a role", () => {
    const tokenizer = makeTokenizer({ chat_template: "x" });
    const messages = [{ content: "Hi" }] as unknown as ChatMessage[];
    expect(() => tokenizer.applyChatTemplate(messages)).toThrow(InputError);
    expect(() => tokenizer.applyChatTemplate(messages)).toThrow(/message 0 must be an object with a string "role"/);
  });
});
