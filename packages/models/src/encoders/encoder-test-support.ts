// Helpers for the encoder tests: fixture reading, the gradient probe and the save/load round trip.
// Test-only: nothing in the package entry point imports this file.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { SeededRandom, randomNormalTensor, type EncoderOutput, type ModalityEncoder } from "@mm/core";
import { readFloat32, readJson } from "@mm/core/testing";
import { loadPretrained, savePretrained } from "../pretrained/load-save";
import type { PretrainedModel } from "../pretrained/pretrained-model";

/** An encoder loaded from a fixture folder. */
export type FixtureEncoder = PretrainedModel & ModalityEncoder;

interface ArrayEntry {
  file: string;
  shape: number[];
}

/** One fixture folder under packages/models/test-fixtures and its `refs.json`. */
export class Fixture {
  readonly directory: string;
  readonly refs: { inputs: Record<string, ArrayEntry>; outputs: Record<string, ArrayEntry | ArrayEntry[]> };

  constructor(name: string) {
    this.directory = fileURLToPath(new URL(`../../test-fixtures/${name}/`, import.meta.url));
    this.refs = readJson(join(this.directory, "refs.json"));
  }

  /** Reads the reference input `key` as a float32 tensor of its recorded shape. */
  input(key: string): tf.Tensor {
    const entry = this.refs.inputs[key];
    return tf.tensor(readFloat32(join(this.directory, entry.file)), entry.shape, "float32");
  }

  /** Reads the reference output `key`, or entry `index` of a list output such as hidden_states. */
  output(key: string, index?: number): Float32Array {
    const value = this.refs.outputs[key];
    const entry = Array.isArray(value) ? value[index ?? 0] : value;
    return readFloat32(join(this.directory, entry.file));
  }

  /** Counts the entries of a list output such as hidden_states. */
  count(key: string): number {
    const value = this.refs.outputs[key];
    return Array.isArray(value) ? value.length : 1;
  }

  load<M extends FixtureEncoder>(): M {
    return loadPretrained<M>(this.directory);
  }
}

/** Disposes every tensor of an encoder output once. */
export function disposeOutput(output: EncoderOutput): void {
  const tensors = new Set([output.last_hidden_state, output.pooler_output, ...(output.hidden_states ?? [])]);
  for (const tensor of tensors) tensor?.dispose();
}

const PROBE_SEED = 11;

/**
 * Computes the probe loss sum(last_hidden_state · W1) + sum(pooler_output · W2) with W1, W2 drawn from a
 * seeded normal distribution. The pooler term is needed because post_layernorm, SigLIP's head and
 * ViT's pooler affect only pooler_output.
 */
function probeLoss(output: EncoderOutput, random: SeededRandom): tf.Scalar {
  let loss = tf.sum(tf.mul(output.last_hidden_state, randomNormalTensor(output.last_hidden_state.shape, 1, random)));
  if (output.pooler_output !== undefined) {
    loss = tf.add(loss, tf.sum(tf.mul(output.pooler_output, randomNormalTensor(output.pooler_output.shape, 1, random))));
  }
  return loss as tf.Scalar;
}

/**
 * Gradients of the probe loss with respect to every trainable parameter, by parameter path, as
 * plain arrays. The same seed gives the same loss weights on every backend.
 */
export function probeGradients(model: FixtureEncoder, inputs: Record<string, tf.Tensor>, seed = PROBE_SEED): Map<string, Float32Array> {
  const trainable = model.namedParameters().filter(([, variable]) => variable.trainable);
  const pathsByVariable = new Map(trainable.map(([path, variable]) => [variable.name, path]));
  const result = new Map<string, Float32Array>();
  tf.tidy(() => {
    const random = new SeededRandom(seed);
    const lossFunction = () => probeLoss(model.forward(inputs), random);
    const { grads } = tf.variableGrads(lossFunction, trainable.map(([, variable]) => variable));
    for (const [name, gradient] of Object.entries(grads)) result.set(pathsByVariable.get(name)!, Float32Array.from(gradient.dataSync()));
  });
  return result;
}

/** True when some entry of `values` is non-zero. */
export function hasNonZero(values: Float32Array): boolean {
  return values.some((value) => value !== 0);
}

/**
 * Saves `model`, loads the saved folder and saves that again. Returns both folders' file bytes
 * (config.json and model.safetensors) and removes the folders.
 */
export async function saveLoadSave(model: FixtureEncoder): Promise<{ first: Map<string, Buffer>; second: Map<string, Buffer> }> {
  const root = mkdtempSync(join(tmpdir(), "mm-encoder-"));
  try {
    await savePretrained(model, join(root, "first"));
    const reloaded = loadPretrained<FixtureEncoder>(join(root, "first"));
    await savePretrained(reloaded, join(root, "second"));
    reloaded.dispose();
    const read = (folder: string) => new Map(["config.json", "model.safetensors"].map((file) => [file, readFileSync(join(root, folder, file))]));
    return { first: read("first"), second: read("second") };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Tensor names in a safetensors file, read from its JSON header. */
export function safetensorsNames(bytes: Buffer): string[] {
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8")) as Record<string, unknown>;
  return Object.keys(header).filter((name) => name !== "__metadata__");
}

/**
 * Compares the probe loss's gradient with a central finite difference along one seeded random
 * direction V over all trainable parameters: returns Σ grad·V and (L(θ + hV) − L(θ − hV)) / 2h.
 * The parameters are restored afterwards.
 */
export function directionalDerivatives(model: FixtureEncoder, inputs: Record<string, tf.Tensor>, step = 1e-3): { analytic: number; numeric: number } {
  const gradients = probeGradients(model, inputs);
  const trainable = model.namedParameters().filter(([, variable]) => variable.trainable);
  const random = new SeededRandom(23);
  const directions = trainable.map(([, variable]) => randomNormalTensor(variable.shape, 1, random));
  const originals = trainable.map(([, variable]) => tf.clone(variable));
  let analytic = 0;
  trainable.forEach(([path], i) => {
    const direction = directions[i].dataSync();
    gradients.get(path)!.forEach((value, j) => (analytic += value * direction[j]));
  });

  const lossAt = (scale: number): number => {
    trainable.forEach(([, variable], i) => {
      const shifted = tf.tidy(() => tf.add(originals[i], tf.mul(directions[i], scale)));
      variable.assign(shifted);
      shifted.dispose();
    });
    return tf.tidy(() => probeLoss(model.forward(inputs), new SeededRandom(PROBE_SEED)).dataSync()[0]);
  };
  const numeric = (lossAt(step) - lossAt(-step)) / (2 * step);
  trainable.forEach(([, variable], i) => variable.assign(originals[i]));
  tf.dispose([...directions, ...originals]);
  return { analytic, numeric };
}
