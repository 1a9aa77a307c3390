import { useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { Trainer } from "../loop/trainer";
import { buildToyModel, collateToyRecords, toyTraining, weightsOf } from "../test-support/toy-task";
import { trainModesFor } from "./trainable";

beforeAll(async () => {
  await useBackend("wasm");
});

describe("trainModesFor", () => {
  it("projector preset trains only the projector, even with weight decay", async () => {
    const model = buildToyModel();
    model.train(trainModesFor("projector", model));
    const before = weightsOf(model);
    const trainer = new Trainer({ model, training: toyTraining({ steps: 5, weightDecay: 0.1 }), records: [0, 1, 2, 3], collate: collateToyRecords, seed: 0 });
    await trainer.run();
    const after = weightsOf(model);

    const projectorPaths = [...before.keys()].filter((path) => path.startsWith("vision_encoder.projector."));
    expect(projectorPaths.length).toBeGreaterThan(0);
    for (const [path, values] of before) {
      const changed = values.some((value, i) => value !== after.get(path)![i]);
      expect({ path, changed }).toEqual({ path, changed: projectorPaths.includes(path) });
    }
    expect(trainer.optimizer.statePaths().sort()).toEqual(projectorPaths.sort());
    trainer.optimizer.dispose();
    model.dispose();
  });

  it("projector+llm preset leaves the encoder unchanged", async () => {
    const model = buildToyModel();
    model.train(trainModesFor("projector+llm", model));
    const before = weightsOf(model);
    const trainer = new Trainer({ model, training: toyTraining({ steps: 3, weightDecay: 0.1 }), records: [0, 1, 2, 3], collate: collateToyRecords, seed: 0 });
    await trainer.run();
    const after = weightsOf(model);
    for (const [path, values] of before) {
      const changed = values.some((value, i) => value !== after.get(path)![i]);
      expect({ path, changed }).toEqual({ path, changed: !path.startsWith("vision_encoder.module.") });
    }
    expect(trainer.optimizer.statePaths().some((path) => path.startsWith("vision_encoder.module."))).toBe(false);
    trainer.optimizer.dispose();
    model.dispose();
  });
});
