import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "@mm/core";
import { describe, expect, it } from "vitest";
import { CheckpointManager } from "../checkpoint/checkpoint-manager";
import { findResumeCheckpoint, removeEarlierRun } from "./run-lifecycle";

/** Creates a checkpoints folder with complete step folders `steps` and an interrupted `.tmp-step-9`. */
function checkpointsWith(steps: number[]): CheckpointManager {
  const directory = join(mkdtempSync(join(tmpdir(), "mm-lifecycle-")), "checkpoints");
  for (const step of steps) {
    mkdirSync(join(directory, `step-${step}`), { recursive: true });
    writeFileSync(join(directory, `step-${step}`, "trainer_state.json"), "{}");
  }
  mkdirSync(join(directory, ".tmp-step-9"), { recursive: true });
  return new CheckpointManager(directory, 2);
}

describe("findResumeCheckpoint", () => {
  it("returns the newest complete checkpoint and deletes the interrupted one", () => {
    const checkpoints = checkpointsWith([4, 8]);
    expect(findResumeCheckpoint(checkpoints)).toBe(join(checkpoints.directory, "step-8"));
    expect(readdirSync(checkpoints.directory).sort()).toEqual(["step-4", "step-8"]);
  });

  it("rejects a folder without a complete checkpoint", () => {
    const checkpoints = checkpointsWith([]);
    expect(() => findResumeCheckpoint(checkpoints)).toThrow(InputError);
    expect(() => findResumeCheckpoint(checkpoints)).toThrow(/^--resume: no complete checkpoint in .*checkpoints; run without --resume to start a new run$/);
  });
});

describe("removeEarlierRun", () => {
  it("deletes every checkpoint of the earlier run", () => {
    const checkpoints = checkpointsWith([4, 8]);
    removeEarlierRun(checkpoints);
    expect(checkpoints.list()).toEqual([]);
  });
});
