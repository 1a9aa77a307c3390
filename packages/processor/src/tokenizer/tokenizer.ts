import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Template } from "@huggingface/jinja";
import { Tokenizer as HFTokenizer } from "@huggingface/tokenizers";
import { ConfigError, InputError, getLogger } from "@mm/core";
import {
  compileChatTemplate,
  renderChatTemplate,
  selectChatTemplate,
  type ChatMessage,
  type ChatTemplateOptions,
} from "../chat/chat-template";
import { registerModalityTokens, resolveModalityTokens, type ModalityTokenRequest } from "./modality-tokens";
import {
  readPaddingSide,
  readSpecialTokens,
  readTruncationSide,
  type PaddingSide,
  type SpecialTokenContents,
  type TruncationSide,
} from "./special-tokens";
import { readTokenizerFiles, type AddedTokenEntry, type TokenizerFiles } from "./tokenizer-files";

const logger = getLogger("processor/tokenizer");

/** Options of {@link Tokenizer.fromPretrained}. */
export interface TokenizerLoadOptions {
  /** Overrides `padding_side` from tokenizer_config.json. */
  paddingSide?: PaddingSide;
  /** Overrides `truncation_side` from tokenizer_config.json. */
  truncationSide?: TruncationSide;
}

/** Options of {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /** Adds the tokens of the tokenizer.json post-processor, such as Llama's BOS. Default true. */
  addSpecialTokens?: boolean;
}

/** Options of {@link Tokenizer.decode}. */
export interface DecodeOptions {
  /** Drops special tokens, modality tokens included, from the text. Default false. */
  skipSpecialTokens?: boolean;
}

/**
 * A Hugging Face fast tokenizer (tokenizer.json) run by `@huggingface/tokenizers` 0.2.0, with the
 * special-token ids a trainer needs and the modality tokens (`<image>`, `<audio>`) of a
 * multimodal model.
 *
 * @example
 * const tokenizer = Tokenizer.fromPretrained("checkpoints/llama-2-7b");
 * const { vision } = tokenizer.addModalityTokens({ vision: "<image>" });
 * const ids = tokenizer.encode("<image>\nWhat is in the picture?"); // [1, vision, 29871, 13, ...]
 */
export class Tokenizer {
  /** Id of the beginning-of-sequence token; null when the folder names no bos_token. */
  readonly bosTokenId: number | null;
  /** Id of the end-of-sequence token; null when the folder names no eos_token. */
  readonly eosTokenId: number | null;
  /** Id used for padding: pad_token, else eos_token (with a logged warning), else null. */
  readonly padTokenId: number | null;
  /** Side of each sequence that `buildBatch` pads: `padding_side` of the config, default "right". */
  readonly paddingSide: PaddingSide;
  /**
   * Side that loses tokens when a sequence is longer than the maximum length: `truncation_side`
   * of the config, default "right" (keep the first tokens).
   */
  readonly truncationSide: TruncationSide;

  private inner: HFTokenizer;
  private maxId: number;
  private readonly modalityIds = new Map<string, number>();
  private readonly modalityTexts = new Map<string, string>();
  private readonly compiledTemplates = new Map<string, Template>();

  private constructor(
    private readonly files: TokenizerFiles,
    private readonly specialTokens: SpecialTokenContents,
    options: TokenizerLoadOptions,
    private readonly dir: string,
  ) {
    this.inner = buildInnerTokenizer(files, dir);
    this.maxId = findMaxId(this.inner);
    this.bosTokenId = this.specialTokenId("bos_token");
    this.eosTokenId = this.specialTokenId("eos_token");
    this.padTokenId = this.specialTokenId("pad_token") ?? this.padFallback();
    this.paddingSide = options.paddingSide ?? readPaddingSide(files.tokenizerConfig);
    this.truncationSide = options.truncationSide ?? readTruncationSide(files.tokenizerConfig);
  }

  /**
   * Loads a tokenizer from a Hugging Face tokenizer folder: tokenizer.json (required),
   * tokenizer_config.json and special_tokens_map.json (optional; the map overrides the config).
   * An optional chat_template.jinja overrides `chat_template` of the config.
   *
   * @throws InputError when tokenizer.json is missing or a file is not valid JSON.
   * @throws ConfigError when a special token, `padding_side` or `truncation_side` is invalid.
   */
  static fromPretrained(dir: string, options: TokenizerLoadOptions = {}): Tokenizer {
    const files = readTokenizerFiles(dir);
    if (!files.hasTokenizerConfig) {
      logger.warn(`${dir} has no tokenizer_config.json; BOS, EOS and pad tokens come from special_tokens_map.json only`);
    }
    const specialTokens = readSpecialTokens(files.tokenizerConfig, files.specialTokensMap);
    return new Tokenizer(files, specialTokens, options, dir);
  }

  /** Number of rows an embedding table needs: the highest token id, added tokens included, plus one. */
  get vocabSize(): number {
    return this.maxId + 1;
  }

  /** Modality key → token id, for every modality token added so far. */
  get modalityTokenIds(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.modalityIds);
  }

  /** Modality key → token text, for every modality token added so far. */
  get modalityTokens(): Readonly<Record<string, string>> {
    return Object.fromEntries(this.modalityTexts);
  }

  /** Encodes text into token ids; `addSpecialTokens` (default true) adds BOS for Llama. */
  encode(text: string, { addSpecialTokens = true }: EncodeOptions = {}): number[] {
    // NOTE: add_bos_token and add_eos_token of tokenizer_config.json are ignored. The tokenizer.json
    // post-processor alone decides which special tokens are added, while transformers' Llama fast
    // tokenizer rewrites that post-processor from those two keys.
    return this.inner.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** Decodes token ids into text; an empty list decodes to "". */
  decode(ids: readonly number[], { skipSpecialTokens = false }: DecodeOptions = {}): string {
    if (ids.length === 0) return "";
    return this.inner.decode([...ids], { skip_special_tokens: skipSpecialTokens });
  }

  /** Returns the id of a token string (e.g. "▁Hello"), or undefined when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined {
    return this.inner.token_to_id(token);
  }

  /** Returns the token string of an id, or undefined when no token has that id. */
  idToToken(id: number): string | undefined {
    return this.inner.id_to_token(id);
  }

  /**
   * Renders a chat with the Jinja `chat_template` of the tokenizer folder, as transformers'
   * `apply_chat_template` does, and by default encodes the text. Encoding adds no special tokens,
   * because the templates write BOS themselves (Llama 3 and Gemma 3 do). The template receives
   * `messages`, `add_generation_prompt`, `bos_token`, `eos_token`, `pad_token`, `unk_token`,
   * `additional_special_tokens`, `raise_exception` and `strftime_now`, plus `templateVariables`.
   *
   * @example
   * tokenizer.applyChatTemplate([{ role: "user", content: "Hi" }], { addGenerationPrompt: true, tokenize: false });
   * // Qwen3: "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
   * @throws ConfigError when the folder has no chat template and none is passed, or it does not parse.
   * @throws InputError when a message has no string role or the template raises an error.
   */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions & { tokenize: false }): string;
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions & { tokenize?: true }): number[];
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): string | number[];
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string | number[] {
    const origin = join(this.dir, this.files.chatTemplateFile === undefined ? "tokenizer_config.json" : "chat_template.jinja");
    const configured = this.files.chatTemplateFile ?? this.files.tokenizerConfig.chat_template;
    const source = selectChatTemplate(configured, options.chatTemplate, origin);

    let template = this.compiledTemplates.get(source);
    if (template === undefined) {
      template = compileChatTemplate(source, origin);
      this.compiledTemplates.set(source, template);
    }
    const text = renderChatTemplate(template, messages, this.templateSpecialTokens(), options, origin);
    return options.tokenize === false ? text : this.encode(text, { addSpecialTokens: false });
  }

  /**
   * Adds one token per modality and returns modality key → token id. A token that is already an
   * added token of tokenizer.json keeps its id. A new one gets the next free id (highest id + 1),
   * in request order.
   * Each becomes a special, non-normalised added token, so it encodes to exactly one id wherever
   * it appears in the text. Calling again with the same tokens returns the same ids.
   *
   * @param request - `{ vision: "<image>", audio: "<audio>" }`, or `["vision"]` for the default `<vision>`.
   * @throws ConfigError when a token is empty, shared by two modalities, a BOS/EOS/pad/unk token,
   *   or a regular entry of the model vocabulary. The tokenizer is left unchanged then.
   */
  addModalityTokens(request: ModalityTokenRequest): Record<string, number> {
    const assigned = new Map([...this.modalityTexts].map(([modality, token]) => [token, modality]));
    const pairs = resolveModalityTokens(request, this.reservedTokens(), assigned);
    const previousAddedTokens = [...this.files.tokenizerJson.added_tokens];

    let ids: Record<string, number>;
    try {
      ids = registerModalityTokens(this.files.tokenizerJson, pairs, (token) => this.tokenToId(token), this.maxId + 1);
      this.rebuild();
      for (const [modality, token] of pairs) this.checkSingleId(modality, token, ids[modality]);
    } catch (error) {
      this.files.tokenizerJson.added_tokens = previousAddedTokens;
      this.rebuild();
      throw error;
    }

    for (const [modality, token] of pairs) {
      this.modalityTexts.set(modality, token);
      this.modalityIds.set(modality, ids[modality]);
    }
    return ids;
  }

  /**
   * Writes tokenizer.json (modality tokens included), tokenizer_config.json (with the current
   * `padding_side` and `truncation_side`) and, when they were loaded, special_tokens_map.json and
   * chat_template.jinja into `dir`, so that
   * `fromPretrained(dir)` followed by the same `addModalityTokens` call returns the same ids.
   */
  save(dir: string): void {
    mkdirSync(dir, { recursive: true });
    const config: Record<string, unknown> = {
      ...this.files.tokenizerConfig,
      padding_side: this.paddingSide,
      truncation_side: this.truncationSide,
    };
    if (config.added_tokens_decoder !== undefined) {
      config.added_tokens_decoder = addedTokensDecoder(this.files.tokenizerJson.added_tokens);
    }
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(this.files.tokenizerJson));
    writeFileSync(join(dir, "tokenizer_config.json"), `${JSON.stringify(config, null, 2)}\n`);
    if (this.files.chatTemplateFile !== undefined) {
      writeFileSync(join(dir, "chat_template.jinja"), this.files.chatTemplateFile);
    }
    if (Object.keys(this.files.specialTokensMap).length > 0) {
      writeFileSync(join(dir, "special_tokens_map.json"), `${JSON.stringify(this.files.specialTokensMap, null, 2)}\n`);
    }
  }

  private rebuild(): void {
    this.inner = buildInnerTokenizer(this.files, this.dir);
    this.maxId = findMaxId(this.inner);
  }

  private specialTokenId(key: keyof SpecialTokenContents): number | null {
    const token = this.specialTokens[key];
    if (token === null) return null;
    const id = this.tokenToId(token);
    if (id === undefined) {
      throw new ConfigError(
        `${this.dir}: ${key} ${JSON.stringify(token)} is not in the vocabulary of tokenizer.json; ` +
          `add it to "added_tokens" there or correct ${key} in tokenizer_config.json`,
        key,
        "tokenizer_config.json",
      );
    }
    return id;
  }

  private padFallback(): number | null {
    if (this.eosTokenId === null) {
      logger.warn(`${this.dir} names neither pad_token nor eos_token; pass padTokenId to buildBatch explicitly`);
      return null;
    }
    logger.warn(
      `${this.dir} names no pad_token; padding with the EOS token ${JSON.stringify(this.specialTokens.eos_token)} ` +
        `(id ${this.eosTokenId}). Set pad_token in tokenizer_config.json to choose another`,
    );
    return this.eosTokenId;
  }

  /** Returns the special-token variables that transformers passes to chat templates, leaving out unset tokens. */
  private templateSpecialTokens(): Record<string, unknown> {
    const variables: Record<string, unknown> = {};
    for (const [key, token] of Object.entries(this.specialTokens)) {
      if (token !== null) variables[key] = token;
    }
    const additional = this.files.tokenizerConfig.additional_special_tokens;
    if (Array.isArray(additional)) variables.additional_special_tokens = additional;
    return variables;
  }

  private reservedTokens(): Set<string> {
    const tokens = Object.values(this.specialTokens).filter((token): token is string => token !== null);
    return new Set(tokens);
  }

  /** Guards the one-id contract against tokenizer.json features this class does not model. */
  private checkSingleId(modality: string, token: string, id: number): void {
    const alone = this.encode(token, { addSpecialTokens: false });
    const inText = this.encode(`a${token}b`, { addSpecialTokens: false });
    const countInText = inText.filter((tokenId) => tokenId === id).length;
    if (alone.length !== 1 || alone[0] !== id || countInText !== 1) {
      throw new ConfigError(
        `${modality}: token ${JSON.stringify(token)} should encode to the single id ${id}, but encodes to ` +
          `[${alone.join(", ")}] alone and [${inText.join(", ")}] in "a${token}b"; choose a token text that ` +
          `does not overlap other added tokens`,
        modality,
      );
    }
  }
}

function buildInnerTokenizer(files: TokenizerFiles, dir: string): HFTokenizer {
  try {
    return new HFTokenizer(files.tokenizerJson, files.tokenizerConfig);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const path = join(dir, "tokenizer.json");
    throw new InputError(
      `${path}: @huggingface/tokenizers could not build a tokenizer from it (${reason}); ` +
        `check that the file comes from a Hugging Face fast tokenizer`,
      path,
    );
  }
}

/** Builds the `added_tokens_decoder` map of tokenizer_config.json: id → token entry without its id. */
function addedTokensDecoder(addedTokens: readonly AddedTokenEntry[]): Record<string, Omit<AddedTokenEntry, "id">> {
  const decoder: Record<string, Omit<AddedTokenEntry, "id">> = {};
  for (const { id, ...entry } of addedTokens) decoder[String(id)] = entry;
  return decoder;
}

function findMaxId(inner: HFTokenizer): number {
  let maxId = -1;
  for (const id of inner.get_vocab(true).values()) {
    if (id > maxId) maxId = id;
  }
  return maxId;
}
