import { ConfigError, InputError } from "@mm/core";
import type { Tokenizer } from "../tokenizer/tokenizer";
import { IGNORE_INDEX } from "./labels";

/** One turn of a LLaVA-format conversation: "human" is the user, "gpt" the assistant. */
export interface ConversationTurn {
  from: "human" | "gpt";
  value: string;
}

/**
 * Rendering rules that turn a conversation into text. A round (one human turn and the
 * assistant's reply) renders as `${humanPrefix}${human}${humanSuffix}${assistantPrefix}${gpt}`
 * followed by the EOS token id. `system` comes before the first round.
 */
export interface ConversationTemplate {
  /** Text before the first round; "" for none. */
  system: string;
  /** Text before each human message. */
  humanPrefix: string;
  /** Text after each human message. */
  humanSuffix: string;
  /** Text before each assistant message; it is not supervised. */
  assistantPrefix: string;
}

/**
 * The default template, in the style of LLaVA's v1 (Vicuna) template without its system prompt:
 * each round is `USER: {human}\nASSISTANT: {gpt}</s>`, and rounds follow one another directly.
 */
export const DEFAULT_CONVERSATION_TEMPLATE: Readonly<ConversationTemplate> = {
  system: "",
  humanPrefix: "USER: ",
  humanSuffix: "\n",
  assistantPrefix: "ASSISTANT: ",
};

/** The part of {@link Tokenizer} that {@link tokenizeConversation} uses. */
export type ConversationTokenizer = Pick<Tokenizer, "encode" | "bosTokenId" | "eosTokenId" | "modalityTokenIds">;

/** Options of {@link tokenizeConversation}. */
export interface ConversationOptions {
  template?: ConversationTemplate;
}

/**
 * Tokenizes a LLaVA-format conversation for supervised training: BOS, then each round rendered
 * by the template (default {@link DEFAULT_CONVERSATION_TEMPLATE}), with the EOS id after each
 * assistant message. Labels equal input_ids on the assistant messages and their EOS, and are -100
 * on BOS, the system text, human turns, the template text and every modality token. Modality
 * tokens in the text (e.g. `<image>`) stay one id each; expand them afterwards with
 * `expandSample`. A final human turn without a reply renders up to the assistant prefix with its
 * trailing whitespace removed, which is the prompt for generation.
 *
 * Each round is encoded on its own. For tokenizers that split the text at special tokens before
 * normalising it, as Llama 2's tokenizer.json does, the result equals encoding the whole rendered
 * text with `</s>` written out. The first assistant token is the first token where the round's
 * encoding differs from the encoding of its prompt alone, so a token that spans the boundary
 * (e.g. Llama's "▁" joined to the first word of the reply) is supervised.
 *
 * @returns input_ids and labels, equal in length.
 * @throws InputError when the conversation is empty or its turns do not alternate human, gpt.
 * @throws ConfigError when the tokenizer has no EOS token.
 */
export function tokenizeConversation(
  tokenizer: ConversationTokenizer,
  conversations: readonly ConversationTurn[],
  { template = DEFAULT_CONVERSATION_TEMPLATE }: ConversationOptions = {},
): { input_ids: number[]; labels: number[] } {
  // NOTE: training labels come only from the fixed-text ConversationTemplate, not from the Jinja
  // chat_template (Tokenizer.applyChatTemplate renders that one without labels), so match the two.
  checkTurns(conversations);
  const eosTokenId = tokenizer.eosTokenId;
  if (eosTokenId === null) {
    throw new ConfigError(
      "tokenizeConversation: the tokenizer has no eos_token; set eos_token in tokenizer_config.json",
      "eos_token",
    );
  }

  const inputIds: number[] = [];
  const labels: number[] = [];
  if (tokenizer.bosTokenId !== null) {
    inputIds.push(tokenizer.bosTokenId);
    labels.push(IGNORE_INDEX);
  }

  for (let turn = 0; turn < conversations.length; turn += 2) {
    const prompt = (turn === 0 ? template.system : "") + renderPrompt(template, conversations[turn].value);
    const reply = conversations[turn + 1];
    const round =
      reply === undefined ? encodePromptOnly(tokenizer, prompt) : encodeRound(tokenizer, prompt, reply.value, eosTokenId);
    inputIds.push(...round.input_ids);
    labels.push(...round.labels);
  }

  maskModalityTokens(inputIds, labels, Object.values(tokenizer.modalityTokenIds));
  return { input_ids: inputIds, labels };
}

function renderPrompt(template: ConversationTemplate, human: string): string {
  return `${template.humanPrefix}${human}${template.humanSuffix}${template.assistantPrefix}`;
}

function encodePromptOnly(tokenizer: ConversationTokenizer, prompt: string): { input_ids: number[]; labels: number[] } {
  const ids = tokenizer.encode(prompt.trimEnd(), { addSpecialTokens: false });
  return { input_ids: ids, labels: ids.map(() => IGNORE_INDEX) };
}

function encodeRound(
  tokenizer: ConversationTokenizer,
  prompt: string,
  reply: string,
  eosTokenId: number,
): { input_ids: number[]; labels: number[] } {
  const promptIds = tokenizer.encode(prompt, { addSpecialTokens: false });
  const roundIds = tokenizer.encode(prompt + reply, { addSpecialTokens: false });
  const replyStart = commonPrefixLength(promptIds, roundIds);

  const labels = roundIds.map((id, position) => (position < replyStart ? IGNORE_INDEX : id));
  return { input_ids: [...roundIds, eosTokenId], labels: [...labels, eosTokenId] };
}

function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  let length = 0;
  while (length < a.length && length < b.length && a[length] === b[length]) length++;
  return length;
}

function maskModalityTokens(inputIds: readonly number[], labels: number[], modalityIds: readonly number[]): void {
  const ids = new Set(modalityIds);
  inputIds.forEach((id, position) => {
    if (ids.has(id)) labels[position] = IGNORE_INDEX;
  });
}

function checkTurns(conversations: readonly ConversationTurn[]): void {
  if (conversations.length === 0) {
    throw new InputError("tokenizeConversation: the conversation has no turns; give at least one human turn");
  }
  conversations.forEach((turn, index) => {
    const expected = index % 2 === 0 ? "human" : "gpt";
    if (turn.from !== expected) {
      throw new InputError(
        `conversation turn ${index}: expected from "${expected}", found ${JSON.stringify(turn.from)}; ` +
          `LLaVA conversations alternate "human" and "gpt", starting with "human"`,
      );
    }
    if (typeof turn.value !== "string") {
      throw new InputError(`conversation turn ${index}: "value" must be a string, found ${typeof turn.value}`);
    }
  });
}
