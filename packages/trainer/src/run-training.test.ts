import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "@mm/core";
import { describe, expect, it } from "vitest";
import { parseTrainConfig } from "./config/load-config";
import { runTraining } from "./run-training";
import { EXAMPLE } from "./test-support/example-processor";
import { tinyVlmConfig } from "./test-support/tiny-vlm-config";

/** Five example captions, a record whose image is missing and a malformed one; a messages-format eval set. */
function writeDatasets(folder: string): { train: string; evaluation: string } {
  mkdirSync(join(folder, "images"));
  const captions = JSON.parse(readFileSync(join(EXAMPLE, "data", "captions.json"), "utf8")).slice(0, 5);
  for (const record of captions) copyFileSync(join(EXAMPLE, "data", record.image), join(folder, record.image));
  const missing = { ...captions[0], id: "missing-image", image: "images/absent.png" };
  const malformed = { id: "no-turns", conversations: [] };
  const train = join(folder, "train.json");
  writeFileSync(train, JSON.stringify([...captions, missing, malformed]));
  const evaluation = join(folder, "eval.jsonl");
  const message = (id: string, image: string) => ({ id, images: image, messages: [{ role: "user", content: "<image>\nWhat is it?" }, { role: "assistant", content: "A photo." }] });
  writeFileSync(evaluation, [message("e1", "images/coins.png"), message("e2", "images/horse.png")].map((r) => JSON.stringify(r)).join("\n"));
  copyFileSync(join(EXAMPLE, "data", "images", "coins.png"), join(folder, "images", "coins.png"));
  copyFileSync(join(EXAMPLE, "data", "images", "horse.png"), join(folder, "images", "horse.png"));
  return { train, evaluation };
}

describe("runTraining", () => {
  it("writes metrics, checkpoints, the loss curve and the modules, skipping bad records", async () => {
    const folder = mkdtempSync(join(tmpdir(), "mm-run-"));
    const { train, evaluation } = writeDatasets(folder);
    const output = join(folder, "output");
    const config = parseTrainConfig(tinyVlmConfig(output, { steps: 3, saveEvery: 2 }, { train, eval: evaluation, skipBadRecords: true }), "config.json");
    const result = await runTraining(config, { progress: "lines" });

    expect(result.history.map((h) => h.step)).toEqual([1, 2, 3]);
    expect(result.evalHistory.map((e) => [e.step, e.records])).toEqual([[3, 2]]);
    expect(result.badRecords.map((r) => r.id).sort()).toEqual(["missing-image", "no-turns"]);
    expect(result.badRecords.find((r) => r.id === "missing-image")!.reason).toMatch(/^image file not found: .*absent\.png/);

    const metrics = readFileSync(join(output, "metrics.jsonl"), "utf8").trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(metrics.map((line) => ("evalLoss" in line ? `eval ${line.step}` : `step ${line.step}`))).toEqual(["step 1", "step 2", "step 3", "eval 3"]);
    expect(metrics[0]).toMatchObject({ step: 1, loss: result.history[0].loss, learningRate: 0 });
    expect(Object.keys(metrics[0]).sort()).toEqual(["gradNorm", "learningRate", "loss", "milliseconds", "step", "tokensPerSecond"]);
    expect(readdirSync(join(output, "checkpoints")).sort()).toEqual(["step-2", "step-3"]);
    expect(JSON.parse(readFileSync(join(output, "mm_config.json"), "utf8"))).toMatchObject({
      modality_tokens: { vision: "<image>" },
      trainable: { llmMode: true, encodersMode: { vision: [true, true] } },
    });
    expect(readFileSync(join(output, "loss.svg"), "utf8")).toMatch(/<polyline points="[^"]+"/);
    for (const file of ["language_model/config.json", "vision_encoder/module/model.safetensors", "vision_encoder/projector/config.json", "tokenizer/tokenizer.json", "mm_config.json"]) {
      expect({ file, exists: existsSync(join(output, file)) }).toEqual({ file, exists: true });
    }

    // A finished run resumes from its final checkpoint and has nothing left to do.
    const again = await runTraining(config, { resume: true, progress: "lines" });
    expect(again.resumedFrom).toBe(join(output, "checkpoints", "step-3"));
    expect(again.history).toEqual(result.history);
    expect(readFileSync(join(output, "metrics.jsonl"), "utf8").trimEnd().split("\n")).toHaveLength(4);
  });

  it("rejects --resume without a checkpoint before building the model", async () => {
    const output = join(mkdtempSync(join(tmpdir(), "mm-run-")), "output");
    const config = parseTrainConfig(tinyVlmConfig(output), "config.json");
    await expect(runTraining(config, { resume: true })).rejects.toThrow(InputError);
    await expect(runTraining(config, { resume: true })).rejects.toThrow(/^--resume: no complete checkpoint in /);
  });
});
