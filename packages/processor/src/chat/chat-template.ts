import { Template } from "@huggingface/jinja";
import { ConfigError, InputError } from "@mm/core";

/** One message of a chat, in the format of transformers' `apply_chat_template`. */
export interface ChatMessage {
  /** "system", "user", "assistant" or another role the template accepts (Qwen3's also takes "tool"). */
  role: string;
  /**
   * The message text, or a list of content parts such as `{ type: "text", text }` and
   * `{ type: "image" }` for templates that read them (Gemma 3's does).
   */
  content: string | ReadonlyArray<Record<string, unknown>>;
  /** Further keys a template may read, such as Qwen3's `reasoning_content` and `tool_calls`. */
  [key: string]: unknown;
}

/** Options of `Tokenizer.applyChatTemplate`. */
export interface ChatTemplateOptions {
  /**
   * Appends the prompt that starts an assistant turn (the template's `add_generation_prompt`).
   * Default false, as in transformers. A template that ignores the variable (the Llama 3 template
   * of some checkpoints always appends the assistant header) decides for itself.
   */
  addGenerationPrompt?: boolean;
  /** Returns token ids instead of the text. Default true, as in transformers. */
  tokenize?: boolean;
  /**
   * The name of one of the templates that tokenizer_config.json lists, or a Jinja template
   * string. Default: the folder's only template, or the one named "default".
   */
  chatTemplate?: string;
  /**
   * Further variables for the template, such as `{ enable_thinking: false }` for Qwen3 or
   * `{ tools: [...] }`. They override the special-token variables of the same name.
   */
  templateVariables?: Readonly<Record<string, unknown>>;
}

/** A named template in the list form of `chat_template` in tokenizer_config.json. */
interface NamedTemplate {
  name: string;
  template: string;
}

/**
 * Picks the Jinja source of a chat template the way transformers' `get_chat_template` does. A
 * `requested` name found among the named templates wins. Otherwise `requested` itself is the
 * template string. Without a request, the folder's single template is used, or its template
 * named "default".
 *
 * @param configured - `chat_template` of tokenizer_config.json: a string, a list of
 *   `{ name, template }` entries, or undefined.
 * @param source - the file named in error messages.
 * @throws ConfigError when no template is configured or requested, when the list has no
 *   "default" entry and no name was requested, or when `configured` is malformed.
 */
export function selectChatTemplate(configured: unknown, requested: string | undefined, source: string): string {
  const named = readNamedTemplates(configured, source);
  if (requested !== undefined) {
    return named?.find((entry) => entry.name === requested)?.template ?? requested;
  }
  if (typeof configured === "string") return configured;
  if (named === undefined) {
    throw new ConfigError(
      `${source} has no "chat_template"; pass the Jinja template as the chatTemplate option, or use a ` +
        `checkpoint whose tokenizer_config.json (or chat_template.jinja) has one`,
      "chat_template",
      source,
    );
  }
  const fallback = named.find((entry) => entry.name === "default");
  if (fallback === undefined) {
    const names = named.map((entry) => JSON.stringify(entry.name)).join(", ");
    throw new ConfigError(
      `${source}: "chat_template" lists the templates ${names} but none named "default"; pass one of those names as the chatTemplate option`,
      "chat_template",
      source,
    );
  }
  return fallback.template;
}

function readNamedTemplates(configured: unknown, source: string): NamedTemplate[] | undefined {
  if (configured === undefined || configured === null || typeof configured === "string") return undefined;
  const isNamedTemplate = (entry: unknown): entry is NamedTemplate =>
    typeof entry === "object" &&
    entry !== null &&
    typeof (entry as NamedTemplate).name === "string" &&
    typeof (entry as NamedTemplate).template === "string";
  if (Array.isArray(configured) && configured.every(isNamedTemplate)) return configured;
  throw new ConfigError(
    `${source}: "chat_template" must be a string or a list of {"name", "template"} objects, found ${JSON.stringify(configured).slice(0, 200)}`,
    "chat_template",
    source,
  );
}

/**
 * Parses a Jinja chat template with `@huggingface/jinja`.
 *
 * @throws ConfigError when the template does not parse.
 */
export function compileChatTemplate(source: string, origin: string): Template {
  try {
    return new Template(source);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${origin}: the chat template does not parse (${reason}); fix or replace "chat_template"`, "chat_template", origin);
  }
}

/**
 * Renders a compiled chat template with the variables transformers gives it: `messages`,
 * `add_generation_prompt`, the special tokens (`bos_token`, `eos_token`, ...), and then
 * `templateVariables`. `raise_exception(message)` and `strftime_now(format)` are globals of
 * `@huggingface/jinja`, as they are of transformers' Jinja environment.
 *
 * @throws InputError when a message is not an object with a string `role`, or when rendering
 *   fails, for example because the template called `raise_exception`.
 */
export function renderChatTemplate(
  template: Template,
  messages: readonly ChatMessage[],
  specialTokens: Readonly<Record<string, unknown>>,
  options: ChatTemplateOptions,
  origin: string,
): string {
  checkMessages(messages);
  // NOTE: transformers' continue_final_message, documents and assistant-token masks are not
  // supported, and @huggingface/jinja prints booleans as true/false where Python Jinja prints True/False.
  const variables = {
    ...specialTokens,
    messages,
    add_generation_prompt: options.addGenerationPrompt ?? false,
    ...options.templateVariables,
  };
  try {
    return template.render(variables);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InputError(`${origin}: rendering the chat template failed: ${reason}`);
  }
}

function checkMessages(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages)) {
    throw new InputError(`applyChatTemplate: messages must be an array of { role, content } objects, found ${typeof messages}`);
  }
  messages.forEach((message, index) => {
    if (typeof message !== "object" || message === null || typeof message.role !== "string") {
      throw new InputError(`applyChatTemplate: message ${index} must be an object with a string "role", found ${JSON.stringify(message)}`);
    }
  });
}
