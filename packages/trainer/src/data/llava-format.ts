import type { ConversationTurn } from "@mm/processor";
import { readMediaPaths } from "./media-paths";

/**
 * Reads the fields of a LLaVA-format record: an optional `image` (a path or a list of paths) and
 * `conversations` of `{from: "human" | "gpt", value}`. Returns the problem as a string when the
 * record is malformed.
 */
export function readLlavaFields(record: Record<string, unknown>, file: string): { conversations: ConversationTurn[]; images: string[] } | string {
  const images = readMediaPaths(record.image, file);
  if (images === undefined) return `"image" must be a path or a list of paths, got ${JSON.stringify(record.image)}`;
  const conversations = record.conversations;
  if (!Array.isArray(conversations) || conversations.length === 0) return '"conversations" must be a non-empty list of {from, value} turns';
  for (const [index, turn] of conversations.entries()) {
    if (!["human", "gpt"].includes(turn?.from) || typeof turn?.value !== "string") {
      return `turn ${index} must be {"from": "human" | "gpt", "value": string}, got ${JSON.stringify(turn)}`;
    }
  }
  return { conversations: conversations as ConversationTurn[], images };
}
