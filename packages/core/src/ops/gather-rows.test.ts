import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { assertClose, countLeakedTensors, gradientsOf, TEST_BACKENDS, useBackend } from "../testing";
import { gatherRows } from "./gather-rows";

const INDICES = [3, 0, 3, 5, 1, 3];

describe.each(TEST_BACKENDS)("gatherRows on %s", (backend) => {
  it("gradient sums repeated rows like tf.gather's on the CPU backend", async () => {
    const reference = (table: tf.Tensor) => tf.gather(table, tf.tensor1d(INDICES, "int32"));
    const expected = await gradientsOf("cpu", [[7, 4]], reference);
    const actual = await gradientsOf(backend, [[7, 4]], (table) => gatherRows(table, INDICES));
    assertClose(actual[0], expected[0], 1e-6, "dTable");
  });

  it("returns the selected rows and leaks nothing", async () => {
    await useBackend(backend);
    const table = tf.tensor2d([[0, 1], [2, 3], [4, 5]]);
    const leaked = await countLeakedTensors(() => {
      const rows = gatherRows(table, [2, 0]);
      expect(Array.from(rows.dataSync())).toEqual([4, 5, 0, 1]);
      rows.dispose();
    });
    expect(leaked).toBe(0);
    table.dispose();
  });
});
