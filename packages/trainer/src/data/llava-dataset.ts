import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { InputError } from "@mm/core";

/** One conversation turn in the LLaVA format. */
export interface LlavaTurn {
  from: "human" | "gpt";
  value: string;
}

/** A training record with its media paths resolved against the dataset file. */
export interface TrainingRecord {
  id: string;
  /** Absolute paths of the record's images, in order of appearance. */
  images: string[];
  conversations: LlavaTurn[];
  /** The dataset file, named in errors. */
  file: string;
}

/**
 * Reads a LLaVA-format dataset: a JSON array, or JSON Lines, of records with `id`, an optional
 * `image` (a path, or a list of paths) and `conversations` of `{from: "human"|"gpt", value}`.
 * Image paths are relative to the dataset file. A malformed record is an InputError naming the
 * file and the record; image files themselves are checked when a batch is loaded.
 */
export function readLlavaDataset(path: string): TrainingRecord[] {
  if (!existsSync(path)) throw new InputError(`dataset file not found: ${path}; check "data.train" in the config`, path);
  const text = readFileSync(path, "utf8");
  const raw = path.endsWith(".jsonl") ? parseJsonLines(text, path) : parseJsonArray(text, path);
  return raw.map((record, index) => toRecord(record, index, path));
}

function parseJsonArray(text: string, path: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path}: invalid JSON (${(error as Error).message}); a .json dataset is one array of records, a .jsonl dataset one record per line`, path);
  }
  if (!Array.isArray(parsed)) throw new InputError(`${path}: expected a JSON array of records`, path);
  return parsed;
}

function parseJsonLines(text: string, path: string): unknown[] {
  return text.split("\n").flatMap((line, index) => {
    if (line.trim() === "") return [];
    try {
      return [JSON.parse(line)];
    } catch (error) {
      throw new InputError(`${path}:${index + 1}: invalid JSON (${(error as Error).message})`, path);
    }
  });
}

function toRecord(raw: unknown, index: number, path: string): TrainingRecord {
  const record = raw as Record<string, unknown>;
  const name = typeof record?.id === "string" || typeof record?.id === "number" ? `record "${record.id}"` : `record ${index}`;
  const invalid = (why: string) => new InputError(`${path}: ${name}: ${why}`, path);
  if (typeof record !== "object" || record === null) throw invalid("is not an object");
  const images = record.image === undefined ? [] : Array.isArray(record.image) ? record.image : [record.image];
  if (!images.every((image) => typeof image === "string" && image !== "")) throw invalid(`"image" must be a path or a list of paths, got ${JSON.stringify(record.image)}`);
  const conversations = record.conversations;
  if (!Array.isArray(conversations) || conversations.length === 0) throw invalid('"conversations" must be a non-empty list of {from, value} turns');
  conversations.forEach((turn, turnIndex) => {
    if (!["human", "gpt"].includes(turn?.from) || typeof turn?.value !== "string") {
      throw invalid(`turn ${turnIndex} must be {"from": "human" | "gpt", "value": string}, got ${JSON.stringify(turn)}`);
    }
  });
  const base = dirname(resolve(path));
  return {
    id: record.id === undefined ? String(index) : String(record.id),
    images: (images as string[]).map((image) => (isAbsolute(image) ? image : resolve(base, image))),
    conversations: conversations as LlavaTurn[],
    file: path,
  };
}
