// The checks every encoder family runs against its reference fixture, on each test backend.
// Test-only: nothing in the package entry point imports this file.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { InputError, ShapeError } from "@mm/core";
import { TEST_BACKENDS, assertClose, countLeakedTensors, useBackend } from "@mm/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Fixture, directionalDerivatives, disposeOutput, hasNonZero, probeGradients, safetensorsNames, saveLoadSave, type FixtureEncoder } from "./encoder-test-support";

export interface EncoderSuiteSpec {
  /** Suite title, the transformers class name. */
  title: string;
  /** Folder under packages/models/test-fixtures. */
  fixture: string;
  /** The batch key of the encoder input, e.g. "pixel_values". */
  inputKey: string;
  /** refs.json output keys of the last hidden state and the hidden-state list. */
  lastHiddenStateKey: string;
  hiddenStatesKey: string;
  /** Whether the fixture has a pooler_output to match. */
  hasPooler: boolean;
  /** An input of the wrong shape and the ShapeError message it must give. */
  wrongInputShape: number[];
  wrongInputMessage: RegExp;
  /** Checkpoint names that loading skips, so a saved folder does not contain them. */
  skippedNames?: RegExp;
}

/** Registers the parity, gradient, memory, input-check and round-trip tests of one encoder family. */
export function describeEncoderFixture(spec: EncoderSuiteSpec): void {
  const fixture = new Fixture(spec.fixture);

  describe.each(TEST_BACKENDS)(`${spec.title} on %s`, (backend) => {
    let model: FixtureEncoder;
    let inputs: Record<string, tf.Tensor>;

    beforeAll(async () => {
      await useBackend(backend);
      model = fixture.load();
      inputs = { [spec.inputKey]: fixture.input(spec.inputKey) };
    });

    afterAll(() => {
      model.dispose();
      tf.dispose(Object.values(inputs));
    });

    it("matches transformers' outputs", () => {
      const output = model.forward(inputs, { outputHiddenStates: true });
      assertClose(output.last_hidden_state, fixture.output(spec.lastHiddenStateKey), 1e-4, "last_hidden_state");
      if (spec.hasPooler) assertClose(output.pooler_output!, fixture.output("pooler_output"), 1e-4, "pooler_output");
      expect(output.hidden_states).toHaveLength(fixture.count(spec.hiddenStatesKey));
      output.hidden_states!.forEach((state, i) => assertClose(state, fixture.output(spec.hiddenStatesKey, i), 1e-4, `hidden_states[${i}]`));
      disposeOutput(output);
    });

    it("omits hidden states unless requested", () => {
      const output = model.forward(inputs);
      expect(output.hidden_states).toBeUndefined();
      expect(output.pooler_output === undefined).toBe(!spec.hasPooler);
      disposeOutput(output);
    });

    it("gives every trainable parameter a gradient", () => {
      const gradients = probeGradients(model, inputs);
      const trainable = model.namedParameters().filter(([, variable]) => variable.trainable);
      expect([...gradients.keys()].sort()).toEqual(trainable.map(([name]) => name).sort());
      for (const [name, gradient] of gradients) expect(hasNonZero(gradient), name).toBe(true);
    });

    it("has gradients that match a finite difference", () => {
      const { analytic, numeric } = directionalDerivatives(model, inputs);
      expect(Math.abs(analytic - numeric) / Math.abs(analytic)).toBeLessThan(2e-3);
    });

    it("passes input gradients when frozen", () => {
      const squaredOutputs = (x: tf.Tensor): tf.Scalar => {
        const output = model.forward({ [spec.inputKey]: x });
        const pooled = output.pooler_output === undefined ? 0 : tf.sum(tf.square(output.pooler_output));
        return tf.add(tf.sum(tf.square(output.last_hidden_state)), pooled) as tf.Scalar;
      };
      const inputGradient = () => tf.tidy(() => Float32Array.from(tf.grad(squaredOutputs)(inputs[spec.inputKey]).dataSync()));
      const trainableGradient = inputGradient();
      model.setTrainable(false);
      let frozenGradient: Float32Array;
      try {
        frozenGradient = inputGradient();
      } finally {
        model.setTrainable(true);
      }
      expect(hasNonZero(frozenGradient)).toBe(true);
      assertClose(frozenGradient, trainableGradient, 1e-5, "input gradient");
    });

    it("leaks no tensors in forward and backward", async () => {
      const leaked = await countLeakedTensors(() => {
        disposeOutput(model.forward(inputs, { outputHiddenStates: true }));
        probeGradients(model, inputs);
      });
      expect(leaked).toBe(0);
    });

    it(`rejects ${spec.inputKey} of the wrong shape`, () => {
      const wrong = tf.zeros(spec.wrongInputShape);
      expect(() => model.forward({ [spec.inputKey]: wrong })).toThrow(ShapeError);
      expect(() => model.forward({ [spec.inputKey]: wrong })).toThrow(spec.wrongInputMessage);
      wrong.dispose();
    });

    it(`rejects a missing ${spec.inputKey}`, () => {
      expect(() => model.forward({})).toThrow(InputError);
      expect(() => model.forward({})).toThrow(new RegExp(`missing input "${spec.inputKey}"`));
    });
  });

  describe(`${spec.title} checkpoint`, () => {
    beforeAll(async () => {
      await useBackend("wasm");
    });

    it("saves, loads and saves the same bytes", async () => {
      const model = fixture.load();
      const { first, second } = await saveLoadSave(model);
      model.dispose();
      const skipped = spec.skippedNames;
      const fixtureNames = safetensorsNames(readFileSync(join(fixture.directory, "model.safetensors")));
      const expectedNames = fixtureNames.filter((name) => skipped === undefined || !skipped.test(name));
      expect(safetensorsNames(first.get("model.safetensors")!).sort()).toEqual(expectedNames.sort());
      expect(second.get("model.safetensors")!.equals(first.get("model.safetensors")!)).toBe(true);
      expect(second.get("config.json")!.equals(first.get("config.json")!)).toBe(true);
    });
  });
}
