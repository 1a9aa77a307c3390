import type { ConversationTurn } from "@mm/processor";
import { readMediaPaths } from "./media-paths";

const SPEAKER_BY_ROLE: Record<string, ConversationTurn["from"]> = { user: "human", assistant: "gpt" };

/**
 * Reads the fields of a messages-format record: `messages` of `{role: "user" | "assistant",
 * content: string}` and optional `images` and `audios` (a path or a list of paths, in the order
 * of their placeholder tokens in the text). Roles become LLaVA's "human" and "gpt". Returns the
 * problem as a string when the record is malformed.
 */
export function readMessagesFields(
  record: Record<string, unknown>,
  file: string,
): { conversations: ConversationTurn[]; images: string[]; audios: string[] } | string {
  const images = readMediaPaths(record.images, file);
  if (images === undefined) return `"images" must be a path or a list of paths, got ${JSON.stringify(record.images)}`;
  const audios = readMediaPaths(record.audios, file);
  if (audios === undefined) return `"audios" must be a path or a list of paths, got ${JSON.stringify(record.audios)}`;
  const messages = record.messages;
  if (!Array.isArray(messages) || messages.length === 0) return '"messages" must be a non-empty list of {role, content} messages';
  const conversations: ConversationTurn[] = [];
  for (const [index, message] of messages.entries()) {
    // NOTE: "system" messages and content given as a list of parts are not supported yet.
    const from = SPEAKER_BY_ROLE[message?.role];
    if (from === undefined || typeof message?.content !== "string") {
      return `message ${index} must be {"role": "user" | "assistant", "content": string}, got ${JSON.stringify(message)}`;
    }
    conversations.push({ from, value: message.content });
  }
  return { conversations, images, audios };
}
