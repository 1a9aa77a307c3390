import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "@mm/core/testing";
import { loadPretrained } from "../../pretrained/load-save";
import "../llama/llama";
import { fixtureDirectory, readRefs } from "../testing/fixture-suite";
import type { DecoderForCausalLM } from "./causal-lm";
import { KeyValueCache } from "./kv-cache";
import { positionIdsFromMask } from "./position-ids";

describe("KeyValueCache", () => {
  beforeAll(async () => {
    await useBackend("cpu");
  });

  it("appends along the sequence axis", () => {
    const cache = new KeyValueCache(2);
    const layer = cache.layers[1];
    const first = tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]);
    const second = tf.tensor4d([5, 6], [1, 1, 1, 2]);
    layer.update(first, tf.neg(first));
    const { keys, values } = layer.update(second, tf.neg(second));
    expect(keys.shape).toEqual([1, 1, 3, 2]);
    expect(Array.from(keys.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(values.dataSync())).toEqual([-1, -2, -3, -4, -5, -6]);
    expect(layer.length).toBe(3);
    expect(cache.length).toBe(0); // read from layer 0, still empty
    cache.dispose();
    tf.dispose([first, second]);
  });

  it("frees replaced tensors and survives tf.tidy", () => {
    const cache = new KeyValueCache(1);
    const step = tf.ones([2, 1, 1, 4]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => void cache.layers[0].update(tf.mul(step, i), tf.mul(step, -i)));
    expect(tf.memory().numTensors - before).toBe(2); // the current keys and values
    const keys = cache.layers[0].keys!;
    expect(keys.shape).toEqual([2, 1, 3, 4]);
    expect(Array.from(keys.dataSync()).filter((_, i) => i % 4 === 0)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(cache.batchSize).toBe(2);
    cache.dispose();
    expect(cache.layers[0].keys).toBeUndefined();
    expect(tf.memory().numTensors - before).toBe(0);
    step.dispose();
  });

  it("rejects keys of another batch size", () => {
    const cache = new KeyValueCache(1);
    const two = tf.zeros([2, 1, 1, 4]);
    const three = tf.zeros([3, 1, 1, 4]);
    cache.layers[0].update(two, two);
    expect(() => cache.layers[0].update(three, three)).toThrow(/layer 0: new keys are \[3,1,1,4\] but the cache contains \[2,1,1,4\]/);
    cache.dispose();
    tf.dispose([two, three]);
  });
});

describe("positionIdsFromMask", () => {
  beforeAll(async () => {
    await useBackend("cpu");
  });

  it("counts attended tokens and gives padding 1", () => {
    const mask = tf.tensor2d(
      [
        [0, 0, 1, 1, 1],
        [1, 1, 1, 1, 1],
      ],
      undefined,
      "int32",
    );
    expect(Array.from(positionIdsFromMask(mask, 5))).toEqual([1, 1, 0, 1, 2, 0, 1, 2, 3, 4]);
    expect(Array.from(positionIdsFromMask(mask, 2))).toEqual([1, 2, 3, 4]);
    mask.dispose();
  });
});

describe("DecoderForCausalLM with a cache", () => {
  const refs = readRefs("llama");
  let model: DecoderForCausalLM;

  beforeAll(async () => {
    await useBackend("cpu");
    model = loadPretrained<DecoderForCausalLM>(fixtureDirectory("llama"));
  });

  afterAll(() => model.dispose());

  it("takes a padded prefill's positions from the mask", () => {
    // Rotary attention depends only on position differences, so a shifted row changes logits
    // just by rounding: the CPU backend's results are compared bit for bit.
    const ids = tf.tensor2d([[0, 0, 0, ...refs.inputs.input_ids[0].slice(0, 5)]], undefined, "int32");
    const mask = tf.tensor2d([[0, 0, 0, 1, 1, 1, 1, 1]], undefined, "int32");
    const fromMask = tf.tensor2d([[1, 1, 1, 0, 1, 2, 3, 4]], undefined, "int32");
    const cache = model.createCache();
    const cached = model.forward({ input_ids: ids, attention_mask: mask }, { cache }).logits;
    const explicit = model.forward({ input_ids: ids, attention_mask: mask, position_ids: fromMask }).logits;
    const plain = model.forward({ input_ids: ids, attention_mask: mask }).logits;
    expect(Array.from(cached.dataSync())).toEqual(Array.from(explicit.dataSync()));
    expect(Array.from(cached.dataSync())).not.toEqual(Array.from(plain.dataSync()));
    cache.dispose();
    tf.dispose([ids, mask, fromMask, cached, explicit, plain]);
  });

  it("continues positions from the cache length without a mask", () => {
    const prompt = refs.inputs.input_ids[0].slice(0, 6);
    const cache = model.createCache();
    const prefix = tf.tensor2d([prompt.slice(0, 4)], undefined, "int32");
    const rest = tf.tensor2d([prompt.slice(4)], undefined, "int32");
    tf.dispose(model.forward({ input_ids: prefix }, { cache }).logits);
    const cached = model.forward({ input_ids: rest }, { cache }).logits; // [1, 2, V]
    const positions = tf.tensor2d([[4, 5]], undefined, "int32");
    const alsoCached = model.createCache();
    tf.dispose(model.forward({ input_ids: prefix }, { cache: alsoCached }).logits);
    const explicit = model.forward({ input_ids: rest, position_ids: positions }, { cache: alsoCached }).logits;
    expect(Array.from(cached.dataSync())).toEqual(Array.from(explicit.dataSync()));
    tf.dispose([prefix, rest, cached, positions, explicit]);
    cache.dispose();
    alsoCached.dispose();
  });

  it("keeps only the last logitsToKeep positions", () => {
    const ids = tf.tensor2d([refs.inputs.input_ids[0]], undefined, "int32");
    const all = model.forward({ input_ids: ids }).logits; // [1, 12, V]
    const last = model.forward({ input_ids: ids }, { logitsToKeep: 2 }).logits; // [1, 2, V]
    const expected = tf.slice(all, [0, 10, 0], [-1, 2, -1]);
    expect(last.shape).toEqual([1, 2, model.vocabSize]);
    expect(Array.from(last.dataSync())).toEqual(Array.from(expected.dataSync()));
    const labels = tf.tensor2d([refs.inputs.labels[0]], undefined, "int32");
    expect(() => model.forward({ input_ids: ids, labels }, { logitsToKeep: 1 })).toThrow(/logitsToKeep \(1\) cannot be combined with labels/);
    tf.dispose([ids, all, last, expected, labels]);
  });

  it("rejects a mask that does not cover the cached tokens", () => {
    const cache = model.createCache();
    const prefix = tf.tensor2d([[5, 6, 7]], undefined, "int32");
    const next = tf.tensor2d([[8]], undefined, "int32");
    const shortMask = tf.tensor2d([[1]], undefined, "int32");
    tf.dispose(model.forward({ input_ids: prefix }, { cache }).logits);
    expect(() => model.forward({ input_ids: next, attention_mask: shortMask }, { cache })).toThrow(
      /attention_mask is \[1,1\] but the inputs are \[1, 1\] after 3 cached tokens; pass \[1, 4\]/,
    );
    const pair = tf.tensor2d([[8], [9]], undefined, "int32");
    expect(() => model.forward({ input_ids: pair }, { cache })).toThrow(/the cache contains 1 rows but the inputs have 2/);
    expect(cache.length).toBe(3);
    cache.dispose();
    tf.dispose([prefix, next, shortMask, pair]);
  });
});
