import { existsSync, readFileSync } from "node:fs";
import { InputError } from "@mm/core";
import { readLlavaFields } from "./llava-format";
import { readMessagesFields } from "./messages-format";
import type { BadRecord, TrainingRecord } from "./training-record";

/** Options of {@link readDataset}. */
export interface ReadDatasetOptions {
  /** Lists malformed records in `badRecords` instead of throwing. */
  skipBadRecords?: boolean;
  /** The config key that named the file, for the not-found message (default "data.train"). */
  configKey?: string;
}

/**
 * Reads a dataset: a JSON array of records, or JSON Lines (`.jsonl`, one record per line). Each
 * record is in the LLaVA format (`conversations`, `image`) or the messages format (`messages`,
 * `images`, `audios`), with an optional `id`. Media paths are relative to the dataset file; the
 * media files themselves are checked when a batch is built.
 *
 * @throws InputError when the file is missing or not JSON, and, unless `skipBadRecords`, naming
 *   the file and the record when a record is malformed.
 */
export function readDataset(path: string, options: ReadDatasetOptions = {}): { records: TrainingRecord[]; badRecords: BadRecord[] } {
  if (!existsSync(path)) throw new InputError(`dataset file not found: ${path}; check "${options.configKey ?? "data.train"}" in the config`, path);
  const text = readFileSync(path, "utf8");
  const entries = path.endsWith(".jsonl") ? parseJsonLines(text, path) : parseJsonArray(text, path);
  const records: TrainingRecord[] = [];
  const badRecords: BadRecord[] = [];
  for (const [index, entry] of entries.entries()) {
    const record = "problem" in entry ? entry : toRecord(entry.value, index, path);
    if (!("problem" in record)) {
      records.push(record);
      continue;
    }
    if (!options.skipBadRecords) throw new InputError(`${path}: ${record.name}: ${record.problem}`, path);
    badRecords.push({ id: record.id, file: path, reason: record.problem });
  }
  return { records, badRecords };
}

type Entry = { value: unknown } | Problem;
type Problem = { id: string; name: string; problem: string };

function parseJsonArray(text: string, path: string): Entry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path}: invalid JSON (${(error as Error).message}); a .json dataset is one array of records, a .jsonl dataset one record per line`, path);
  }
  if (!Array.isArray(parsed)) throw new InputError(`${path}: expected a JSON array of records`, path);
  return parsed.map((value) => ({ value }));
}

function parseJsonLines(text: string, path: string): Entry[] {
  return text.split("\n").flatMap((line, index): Entry[] => {
    if (line.trim() === "") return [];
    try {
      return [{ value: JSON.parse(line) }];
    } catch (error) {
      return [{ id: `line ${index + 1}`, name: `line ${index + 1}`, problem: `invalid JSON (${(error as Error).message})` }];
    }
  });
}

function toRecord(raw: unknown, index: number, path: string): TrainingRecord | Problem {
  const record = raw as Record<string, unknown>;
  const hasId = typeof record?.id === "string" || typeof record?.id === "number";
  const id = hasId ? String(record.id) : String(index);
  const invalid = (problem: string): Problem => ({ id, name: hasId ? `record "${id}"` : `record ${index}`, problem });
  if (typeof record !== "object" || record === null || Array.isArray(record)) return invalid("is not an object");
  if ((record.messages === undefined) === (record.conversations === undefined)) {
    return invalid('needs exactly one of "conversations" (LLaVA format) or "messages" (messages format)');
  }
  const fields = record.messages === undefined ? readLlavaFields(record, path) : readMessagesFields(record, path);
  if (typeof fields === "string") return invalid(fields);
  return { id, file: path, audios: [], ...fields };
}
