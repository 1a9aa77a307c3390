import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { readSafetensors } from "@mm/core";
import { useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { Trainer } from "../loop/trainer";
import type { Optimizer } from "../optim/optimizer";
import { buildToyModel, collateToyRecords, toyTraining } from "../test-support/toy-task";
import { CheckpointManager } from "./checkpoint-manager";
import { readTrainerState } from "./trainer-state";

beforeAll(async () => {
  await useBackend("wasm");
});

function checkpointFolder(): string {
  return join(mkdtempSync(join(tmpdir(), "mm-checkpoints-")), "checkpoints");
}

async function trainWithCheckpoints(directory: string, changes: Parameters<typeof toyTraining>[0]) {
  const model = buildToyModel();
  const checkpoints = new CheckpointManager(directory, changes?.keepCheckpoints ?? 2);
  const trainer = new Trainer({ model, training: toyTraining(changes), records: [0, 1, 2, 3, 4], collate: collateToyRecords, seed: 1, checkpoints });
  await trainer.run();
  return { model, trainer, checkpoints };
}

describe("CheckpointManager", () => {
  it("writes step-N folders every saveEvery steps and keeps the newest ones", async () => {
    const directory = checkpointFolder();
    const { model, trainer, checkpoints } = await trainWithCheckpoints(directory, { steps: 10, saveEvery: 3, keepCheckpoints: 2 });
    expect(readdirSync(directory).sort()).toEqual(["step-10", "step-9"]);
    expect(checkpoints.list().map((entry) => entry.step)).toEqual([9, 10]);
    expect(checkpoints.latest()).toBe(join(directory, "step-10"));
    trainer.optimizer.dispose();
    model.dispose();
  });

  it("stores each module, the optimizer moments and the trainer state", async () => {
    const directory = checkpointFolder();
    const { model, trainer } = await trainWithCheckpoints(directory, { steps: 4, saveEvery: 2 });
    const step = join(directory, "step-4");
    for (const file of ["vision_encoder/module/model.safetensors", "vision_encoder/projector/model.safetensors", "vision_encoder/projector/config.json", "language_model/model.safetensors"]) {
      expect({ file, exists: existsSync(join(step, file)) }).toEqual({ file, exists: true });
    }
    const projector = readSafetensors(join(step, "vision_encoder/projector/model.safetensors")).tensors;
    const live = model.encoders.vision.projector!.namedParameters();
    expect([...projector.keys()].sort()).toEqual(live.map(([path]) => path).sort());
    for (const [path, variable] of live) expect(projector.get(path)!.values).toEqual(variable.dataSync());

    const moments = readSafetensors(join(step, "optimizer.safetensors"));
    const paths = model.namedParameters().map(([path]) => path);
    expect([...moments.tensors.keys()].sort()).toEqual(paths.flatMap((path) => [`exp_avg.${path}`, `exp_avg_sq.${path}`]).sort());
    expect(moments.metadata).toMatchObject({ optimizer: "adamw", step_count: "4" });

    const state = readTrainerState(join(step, "trainer_state.json"));
    expect(state).toMatchObject({ step: 4, totalSteps: 4, seed: 1, optimizer: { name: "adamw", stepCount: 4 } });
    expect(state.schedule).toEqual({ name: "constant", learningRate: 0.05, warmupSteps: 0, totalSteps: 4 });
    expect(state.history.map((h) => h.step)).toEqual([1, 2, 3, 4]);
    expect(state.data.recordCount).toBe(5);
    // 4 steps of 4 records from 5 records: 3 full epochs drawn, 1 record into the 4th.
    expect(state.data).toMatchObject({ epoch: 4, position: 1 });
    expect([...state.data.order].sort()).toEqual([0, 1, 2, 3, 4]);
    trainer.optimizer.dispose();
    model.dispose();
  });

  it("never exposes a checkpoint whose writing failed", async () => {
    const directory = checkpointFolder();
    const { model, trainer, checkpoints } = await trainWithCheckpoints(directory, { steps: 2, saveEvery: 1 });
    const broken: Optimizer = {
      ...trainer.optimizer,
      name: "adamw",
      stateTensors: () => {
        throw new Error("disk full");
      },
    };
    const state = readTrainerState(join(directory, "step-2", "trainer_state.json"));
    await expect(checkpoints.save(model, broken, { ...state, step: 3 })).rejects.toThrow("disk full");
    expect(checkpoints.latest()).toBe(join(directory, "step-2"));
    expect(existsSync(join(directory, ".tmp-step-3"))).toBe(true);
    checkpoints.removeIncomplete();
    expect(readdirSync(directory).sort()).toEqual(["step-1", "step-2"]);
    trainer.optimizer.dispose();
    model.dispose();
  });

  it("ignores step folders without trainer_state.json", () => {
    const directory = checkpointFolder();
    mkdirSync(join(directory, "step-7"), { recursive: true });
    mkdirSync(join(directory, "step-5"), { recursive: true });
    writeFileSync(join(directory, "step-5", "trainer_state.json"), "{}");
    expect(new CheckpointManager(directory, 2).latest()).toBe(join(directory, "step-5"));
  });

  it("leaves no tensors behind", async () => {
    const directory = checkpointFolder();
    const { model, trainer, checkpoints } = await trainWithCheckpoints(directory, { steps: 3 });
    const state = readTrainerState(join(directory, "step-3", "trainer_state.json"));
    const before = tf.memory().numTensors;
    await checkpoints.save(model, trainer.optimizer, state); // replaces step-3
    trainer.resumeFrom(join(directory, "step-3"));
    expect(tf.memory().numTensors).toBe(before);
    trainer.optimizer.dispose();
    model.dispose();
  });
});
