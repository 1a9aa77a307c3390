/**
 * The parity suite every decoder family runs against its reference fixture. A fixture is a tiny
 * random-weight model in Hugging Face format. Its logits, hidden states, loss and gradients were
 * computed by transformers 4.40.2 (PyTorch, float32, eager attention) on a right-padded batch of
 * two rows.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLogger, readSafetensors, writeSafetensors, type SafetensorsWriteEntry } from "@mm/core";
import { assertClose, countLeakedTensors, readFloat32, readJson, TEST_BACKENDS, useBackend } from "@mm/core/testing";
import { loadPretrained, savePretrained } from "../../pretrained/load-save";
import type { DecoderForCausalLM, DecoderOutput } from "../llama-style/causal-lm";

const log = getLogger("decoder-parity");

interface ArrayRef {
  file: string;
  shape: number[];
}

/** The parts of a fixture's refs.json that the suite reads. */
export interface CausalLmRefs {
  inputs: { input_ids: number[][]; attention_mask: number[][]; labels: number[][] };
  outputs: { logits: ArrayRef; hidden_states: ArrayRef[]; loss: number };
}

export function fixtureDirectory(name: string): string {
  return fileURLToPath(new URL(`../../../test-fixtures/${name}`, import.meta.url));
}

export function readRefs(name: string): CausalLmRefs {
  return readJson<CausalLmRefs>(join(fixtureDirectory(name), "refs.json"));
}

/** Builds the fixture's inputs as tensors, which the caller disposes. */
export function fixtureInputs(refs: CausalLmRefs): { input_ids: tf.Tensor; attention_mask: tf.Tensor; labels: tf.Tensor } {
  return {
    input_ids: tf.tensor2d(refs.inputs.input_ids, undefined, "int32"),
    attention_mask: tf.tensor2d(refs.inputs.attention_mask, undefined, "int32"),
    labels: tf.tensor2d(refs.inputs.labels, undefined, "int32"),
  };
}

/** Returns max |value|, to check that a parameter received any gradient. */
function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]));
  return max;
}

/** Logs the max relative errors at debug level (MM_LOG_LEVEL=debug) for parity reports. */
function logParity(name: string, backend: string, errors: Record<string, number>): void {
  const parts = Object.entries(errors).map(([key, error]) => `${key} ${error.toExponential(2)}`);
  log.debug(`${name} on ${backend}: max relative error ${parts.join(", ")}`);
}

/**
 * Defines the standard tests for the fixture `name`: parity of logits, hidden states, loss and
 * every gradient on each test backend, no leaked tensors, a byte-identical save/load/save round
 * trip, and load errors that list missing and wrongly shaped tensors.
 */
export function describeFixtureParity(name: string): void {
  const directory = fixtureDirectory(name);
  const refs = readRefs(name);

  describe.each(TEST_BACKENDS)(`${name} fixture on %s`, (backend) => {
    let model: DecoderForCausalLM;
    const errors: Record<string, number> = {};

    beforeAll(async () => {
      await useBackend(backend);
      model = loadPretrained<DecoderForCausalLM>(directory);
    });

    afterAll(() => {
      model.dispose();
      logParity(name, backend, errors);
    });

    it("logits, hidden states and loss match transformers", () => {
      const inputs = fixtureInputs(refs);
      const output = model.forward(inputs, { outputHiddenStates: true });
      expect(output.logits.shape).toEqual(refs.outputs.logits.shape);
      errors.logits = assertClose(output.logits, readFloat32(join(directory, refs.outputs.logits.file)), 1e-4, "logits");
      expect(output.hidden_states).toHaveLength(refs.outputs.hidden_states.length);
      errors.hiddenStates = 0;
      refs.outputs.hidden_states.forEach((expected, i) => {
        const error = assertClose(output.hidden_states![i], readFloat32(join(directory, expected.file)), 1e-4, `hidden_states[${i}]`);
        errors.hiddenStates = Math.max(errors.hiddenStates, error);
      });
      errors.loss = assertClose([output.loss!.dataSync()[0]], [refs.outputs.loss], 1e-5, "loss");
      tf.dispose([...Object.values(inputs), output.logits, output.loss!, ...output.hidden_states!]);
    });

    it("every gradient matches transformers", () => {
      const expected = readSafetensors(join(directory, "grads.safetensors")).tensors;
      const inputs = fixtureInputs(refs);
      const { value, grads } = tf.variableGrads(() => model.forward(inputs).loss as tf.Scalar, model.parameters());
      const names = new Map(model.namedParameters().map(([path, variable]) => [variable.name, path]));
      const byPath = new Map(Object.entries(grads).map(([variableName, gradient]) => [names.get(variableName)!, gradient]));
      expect([...byPath.keys()].sort()).toEqual([...expected.keys()].sort());
      errors.gradients = 0;
      for (const [path, gradient] of byPath) {
        const error = assertClose(gradient, expected.get(path)!.values, 1e-4, `d loss / d ${path}`);
        errors.gradients = Math.max(errors.gradients, error);
        expect(maxAbs(gradient.dataSync()), `gradient of ${path}`).toBeGreaterThan(0);
      }
      tf.dispose([...Object.values(inputs), value, ...Object.values(grads)]);
    });

    it("forward and backward leak no tensors", async () => {
      const inputs = fixtureInputs(refs);
      const leaked = await countLeakedTensors(() => {
        const output = model.forward(inputs, { outputHiddenStates: true });
        tf.dispose([output.logits, output.loss!, ...output.hidden_states!]);
        const { value, grads } = tf.variableGrads(() => model.forward(inputs).loss as tf.Scalar, model.parameters());
        tf.dispose([value, ...Object.values(grads)]);
      });
      expect(leaked).toBe(0);
      tf.dispose(Object.values(inputs));
    });
  });

  describe(`${name} checkpoint files`, () => {
    let scratch: string;

    beforeAll(async () => {
      await useBackend("cpu");
      scratch = mkdtempSync(join(tmpdir(), `mm-${name}-`));
    });

    afterAll(() => rmSync(scratch, { recursive: true, force: true }));

    it("save, load and save again give identical files", async () => {
      const first = join(scratch, "first");
      const second = join(scratch, "second");
      const model = loadPretrained(directory);
      await savePretrained(model, first);
      model.dispose();
      const reloaded = loadPretrained(first);
      await savePretrained(reloaded, second);
      reloaded.dispose();

      for (const file of ["model.safetensors", "config.json"]) {
        expect(readFileSync(join(second, file)).equals(readFileSync(join(first, file))), file).toBe(true);
      }
      const original = readSafetensors(join(directory, "model.safetensors")).tensors;
      const saved = readSafetensors(join(first, "model.safetensors")).tensors;
      expect([...saved.keys()].sort()).toEqual([...original.keys()].sort());
      for (const [tensorName, entry] of original) {
        expect(sameBytes(saved.get(tensorName)!.values, entry.values), `${tensorName} values`).toBe(true);
      }
    });

    it("load lists missing and wrongly shaped tensors", async () => {
      const broken = join(scratch, "broken");
      const tensors = readSafetensors(join(directory, "model.safetensors")).tensors;
      const entries = new Map<string, SafetensorsWriteEntry>([...tensors].map(([key, entry]) => [key, { shape: entry.shape, values: entry.values }]));
      entries.delete("model.layers.1.mlp.up_proj.weight");
      entries.set("model.norm.weight", { shape: [3], values: new Float32Array(3) });
      writeBrokenCheckpoint(broken, directory, entries);

      let message = "";
      const leaked = await countLeakedTensors(() => {
        try {
          loadPretrained(broken);
        } catch (error) {
          message = (error as Error).message;
        }
      });
      expect(message).toMatch(/missing: model\.layers\.1\.mlp\.up_proj\.weight \[\d+,\d+\]/);
      expect(message).toMatch(/wrong shape: model\.norm\.weight is \[3\] in the file but the model expects \[\d+\]/);
      expect(leaked).toBe(0);
    });
  });
}

function sameBytes(a: Float32Array | Int32Array, b: Float32Array | Int32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Writes a model folder with the fixture's config.json and the given tensors. */
export function writeBrokenCheckpoint(target: string, fixture: string, entries: Map<string, SafetensorsWriteEntry>): void {
  mkdirSync(target, { recursive: true });
  writeSafetensors(join(target, "model.safetensors"), entries);
  copyFileSync(join(fixture, "config.json"), join(target, "config.json"));
}
