import type { ConversationTurn } from "@mm/processor";

/** A training record read from a dataset file, with its media paths resolved against that file. */
export interface TrainingRecord {
  /** The record's `id`, or its 0-based index in the file when it has none. */
  id: string;
  /** The dataset file, named in errors. */
  file: string;
  /** The conversation in LLaVA form: "human" (user) and "gpt" (assistant) turns, alternating. */
  conversations: ConversationTurn[];
  /** Absolute paths of the record's images, in order of their placeholder tokens. */
  images: string[];
  /** Absolute paths of the record's audio clips, in order of their placeholder tokens. */
  audios: string[];
}

/** A record that was skipped because it could not be used, with the reason. */
export interface BadRecord {
  id: string;
  file: string;
  reason: string;
}
