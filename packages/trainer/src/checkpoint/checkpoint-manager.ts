import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { getLogger, type MultimodalModel } from "@mm/core";
import type { Optimizer } from "../optim/optimizer";
import { writeOptimizerState } from "./optimizer-state";
import { saveModules } from "./save-modules";
import { writeTrainerState, type TrainerState } from "./trainer-state";

const log = getLogger("trainer");

const COMPLETE = /^step-(\d+)$/;
const TEMPORARY = /^\.tmp-step-\d+$/;

/** A checkpoint folder and its step. */
export interface CheckpointEntry {
  step: number;
  path: string;
}

/**
 * Writes checkpoints as `step-N` folders under one directory: the modules in Hugging Face format
 * (see `saveModules`), `optimizer.safetensors` and `trainer_state.json`. Each is written to
 * `.tmp-step-N` and then renamed, so a crash while writing never leaves a partial `step-N`; only
 * the newest `keep` are kept.
 */
export class CheckpointManager {
  constructor(
    readonly directory: string,
    private readonly keep: number,
  ) {}

  /** Complete checkpoints, oldest first. */
  list(): CheckpointEntry[] {
    if (!existsSync(this.directory)) return [];
    const entries = readdirSync(this.directory).flatMap((name) => {
      const match = COMPLETE.exec(name);
      const path = join(this.directory, name);
      return match !== null && existsSync(join(path, "trainer_state.json")) ? [{ step: Number(match[1]), path }] : [];
    });
    return entries.sort((a, b) => a.step - b.step);
  }

  /** Returns the newest complete checkpoint folder, or undefined when there is none. */
  latest(): string | undefined {
    return this.list().at(-1)?.path;
  }

  /** Writes the checkpoint of step `state.step` and deletes the ones beyond `keep`. Returns its folder. */
  async save(model: MultimodalModel, optimizer: Optimizer, state: TrainerState): Promise<string> {
    const final = join(this.directory, `step-${state.step}`);
    const temporary = join(this.directory, `.tmp-step-${state.step}`);
    rmSync(temporary, { recursive: true, force: true });
    mkdirSync(temporary, { recursive: true });
    await saveModules(model, temporary);
    await writeOptimizerState(join(temporary, "optimizer.safetensors"), optimizer);
    writeTrainerState(join(temporary, "trainer_state.json"), state);
    // NOTE: nothing is fsynced, so the rename protects against a killed process but not against power loss.
    rmSync(final, { recursive: true, force: true });
    renameSync(temporary, final);
    this.prune();
    return final;
  }

  /** Deletes every checkpoint and leftover temporary folder; returns how many checkpoints there were. */
  removeAll(): number {
    const count = this.list().length;
    if (existsSync(this.directory)) rmSync(this.directory, { recursive: true, force: true });
    return count;
  }

  /** Deletes the temporary folders of checkpoints whose writing was interrupted. */
  removeIncomplete(): void {
    if (!existsSync(this.directory)) return;
    for (const name of readdirSync(this.directory)) {
      if (TEMPORARY.test(name)) rmSync(join(this.directory, name), { recursive: true, force: true });
    }
  }

  private prune(): void {
    const entries = this.list();
    for (const entry of entries.slice(0, Math.max(0, entries.length - this.keep))) {
      rmSync(entry.path, { recursive: true, force: true });
      log.debug(`deleted checkpoint ${entry.path} (training.keepCheckpoints is ${this.keep})`);
    }
  }
}
