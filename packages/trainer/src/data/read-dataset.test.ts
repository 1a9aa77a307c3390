import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "@mm/core";
import { describe, expect, it } from "vitest";
import { readDataset } from "./read-dataset";

const folder = mkdtempSync(join(tmpdir(), "mm-dataset-"));

function datasetFile(name: string, content: unknown): string {
  const path = join(folder, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const LLAVA = { id: "cat", image: "images/cat.png", conversations: [{ from: "human", value: "<image>\nWhat is it?" }, { from: "gpt", value: "A cat." }] };
const MESSAGES = {
  id: 7,
  messages: [{ role: "user", content: "<image> and <audio>: describe both." }, { role: "assistant", content: "A dog barking." }],
  images: "dog.jpg",
  audios: ["/data/bark.wav"],
};

describe("readDataset", () => {
  it("reads LLaVA records with image paths relative to the file", () => {
    const { records, badRecords } = readDataset(datasetFile("llava.json", [LLAVA, { ...LLAVA, id: undefined, image: ["a.png", "b.png"] }]));
    expect(badRecords).toEqual([]);
    expect(records[0]).toEqual({ id: "cat", file: join(folder, "llava.json"), conversations: LLAVA.conversations, images: [join(folder, "images/cat.png")], audios: [] });
    expect(records[1].id).toBe("1");
    expect(records[1].images).toEqual([join(folder, "a.png"), join(folder, "b.png")]);
  });

  it("reads messages records, turning roles into LLaVA speakers", () => {
    const { records } = readDataset(datasetFile("messages.json", [MESSAGES]));
    expect(records[0]).toEqual({
      id: "7",
      file: join(folder, "messages.json"),
      conversations: [
        { from: "human", value: "<image> and <audio>: describe both." },
        { from: "gpt", value: "A dog barking." },
      ],
      images: [join(folder, "dog.jpg")],
      audios: ["/data/bark.wav"],
    });
  });

  it("reads JSON Lines with both formats and blank lines", () => {
    const path = datasetFile("mixed.jsonl", `${JSON.stringify(LLAVA)}\n\n${JSON.stringify(MESSAGES)}\n`);
    expect(readDataset(path).records.map((r) => r.id)).toEqual(["cat", "7"]);
  });

  it.each([
    ["a system message", { ...MESSAGES, messages: [{ role: "system", content: "Be brief." }] }, /messages.json: record "7": message 0 must be \{"role": "user" \| "assistant", "content": string\}/],
    ["both formats", { ...MESSAGES, conversations: LLAVA.conversations }, /record "7": needs exactly one of "conversations" \(LLaVA format\) or "messages"/],
    ["neither format", { id: "x" }, /record "x": needs exactly one of/],
    ["an image that is not a path", { ...LLAVA, image: 3 }, /record "cat": "image" must be a path or a list of paths, got 3/],
    ["audios that are not paths", { ...MESSAGES, audios: [""] }, /record "7": "audios" must be a path or a list of paths/],
    ["a turn with an unknown speaker", { ...LLAVA, conversations: [{ from: "user", value: "hi" }] }, /record "cat": turn 0 must be \{"from": "human" \| "gpt"/],
    ["a record that is not an object", "text", /record 0: is not an object/],
  ])("rejects %s naming the file and record", (_name, record, message) => {
    const path = datasetFile("messages.json", [record]);
    expect(() => readDataset(path)).toThrow(InputError);
    expect(() => readDataset(path)).toThrow(message);
  });

  it("names the line of invalid JSON in a .jsonl file", () => {
    const path = datasetFile("broken.jsonl", `${JSON.stringify(LLAVA)}\n{"id": \n`);
    expect(() => readDataset(path)).toThrow(/broken.jsonl: line 2: invalid JSON/);
  });

  it("skips malformed records with skipBadRecords and lists them", () => {
    const path = datasetFile("some-bad.jsonl", [JSON.stringify(LLAVA), "{oops", JSON.stringify({ ...MESSAGES, images: 5 })].join("\n"));
    const { records, badRecords } = readDataset(path, { skipBadRecords: true });
    expect(records.map((r) => r.id)).toEqual(["cat"]);
    expect(badRecords.map((r) => r.id)).toEqual(["line 2", "7"]);
    expect(badRecords[1]).toEqual({ id: "7", file: path, reason: '"images" must be a path or a list of paths, got 5' });
  });

  it("names a missing file and the config key", () => {
    expect(() => readDataset(join(folder, "absent.json"), { configKey: "data.eval" })).toThrow(/^dataset file not found: .*absent.json; check "data.eval" in the config$/);
  });
});
