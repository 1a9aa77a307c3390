import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLogger, readTensors } from "@mm/core";
import { countLeakedTensors, readJson, relativeError, TEST_BACKENDS, useBackend } from "@mm/core/testing";
import { MistralForCausalLM, type DecoderForCausalLM, type MistralConfig } from "../decoders";
import { fixtureDirectory, readRefs } from "../decoders/testing/fixture-suite";
import { loadPretrained } from "../pretrained/load-save";
import { generate, type GenerationOutput } from "./generate";
import { argmax } from "./sampling";

const log = getLogger("generation-parity");
const FAMILIES = ["llama", "mistral", "gemma", "qwen2"] as const;
const STEPS = 8;
const TOLERANCE = 1e-4;

/**
 * Computes the next-token logits of every step with one pass over the prompt and the new tokens,
 * without a cache. One pass suffices because a causal model's logits at position p depend only on
 * tokens 0..p.
 */
function uncachedStepLogits(model: DecoderForCausalLM, prompt: number[], newTokens: number[]): Float32Array[] {
  const ids = tf.tensor2d([[...prompt, ...newTokens.slice(0, -1)]], undefined, "int32");
  const { logits } = model.forward({ input_ids: ids }); // [1, S, V]
  const values = logits.dataSync() as Float32Array;
  const vocabSize = model.vocabSize;
  const steps = newTokens.map((_, step) => values.slice((prompt.length - 1 + step) * vocabSize, (prompt.length + step) * vocabSize));
  tf.dispose([ids, logits]);
  return steps;
}

/** Left-pads rows with id 0 to the longest; returns int32 input_ids and attention_mask [B, T]. */
function leftPadded(rows: number[][]): { input_ids: tf.Tensor; attention_mask: tf.Tensor } {
  const length = Math.max(...rows.map((row) => row.length));
  const ids = rows.map((row) => [...new Array<number>(length - row.length).fill(0), ...row]);
  const mask = rows.map((row) => [...new Array<number>(length - row.length).fill(0), ...new Array<number>(row.length).fill(1)]);
  return { input_ids: tf.tensor2d(ids, undefined, "int32"), attention_mask: tf.tensor2d(mask, undefined, "int32") };
}

/** Checks each step's cached logits of `row` against the uncached ones; returns the max relative error. */
function expectCachedEqualsUncached(model: DecoderForCausalLM, output: GenerationOutput, row: number, prompt: number[]): number {
  const tokens = output.newTokens[row];
  const expected = uncachedStepLogits(model, prompt, tokens);
  let maxError = 0;
  expected.forEach((logits, step) => {
    const error = relativeError(output.logits![step][row], logits);
    expect(error, `row ${row} step ${step} logits`).toBeLessThanOrEqual(TOLERANCE);
    expect(tokens[step], `row ${row} step ${step} token`).toBe(argmax(logits));
    maxError = Math.max(maxError, error);
  });
  return maxError;
}

describe.each(FAMILIES)("generate with the %s fixture", (family) => {
  const directory = fixtureDirectory(family);
  const refs = readRefs(family);
  // 12 tokens: longer than Mistral's window of 6, so its cached steps need the window.
  const longPrompt = refs.inputs.input_ids[0];
  const shortPrompt = refs.inputs.input_ids[1].slice(0, 5);

  describe.each(TEST_BACKENDS)("on %s", (backend) => {
    let model: DecoderForCausalLM;
    let maxError = 0;

    beforeAll(async () => {
      await useBackend(backend);
      model = loadPretrained<DecoderForCausalLM>(directory);
    });

    afterAll(() => {
      model.dispose();
      log.debug(`${family} on ${backend}: max relative error of cached vs uncached logits ${maxError.toExponential(2)}`);
    });

    it("greedy steps equal uncached passes", () => {
      const ids = tf.tensor2d([longPrompt], undefined, "int32");
      const output = generate(model, { input_ids: ids }, { max_new_tokens: STEPS, eos_token_id: null, output_logits: true });
      expect(output.newTokens[0]).toHaveLength(STEPS);
      maxError = Math.max(maxError, expectCachedEqualsUncached(model, output, 0, longPrompt));
      ids.dispose();
    });

    it("left-padded rows equal their prompts alone", () => {
      const prompts = [longPrompt.slice(0, 9), shortPrompt];
      const inputs = leftPadded(prompts);
      const output = generate(model, inputs, { max_new_tokens: STEPS, eos_token_id: null, output_logits: true });
      prompts.forEach((prompt, row) => {
        maxError = Math.max(maxError, expectCachedEqualsUncached(model, output, row, prompt));
      });
      tf.dispose(Object.values(inputs));
    });

    it("chunked cached passes equal one full pass", () => {
      const full = tf.tensor2d([longPrompt], undefined, "int32");
      const expected = model.forward({ input_ids: full }).logits; // [1, 12, V]
      const cache = model.createCache();
      const chunks = [longPrompt.slice(0, 5), longPrompt.slice(5, 9), longPrompt.slice(9)];
      const cachedLogits = chunks.map((chunk) => {
        const ids = tf.tensor2d([chunk], undefined, "int32");
        const { logits } = model.forward({ input_ids: ids }, { cache });
        ids.dispose();
        return logits;
      });
      expect(cache.length).toBe(longPrompt.length);
      const actual = tf.concat(cachedLogits, 1); // [1, 12, V]
      const error = relativeError(actual, expected);
      expect(error).toBeLessThanOrEqual(TOLERANCE);
      maxError = Math.max(maxError, error);
      cache.dispose();
      tf.dispose([full, expected, ...cachedLogits, actual]);
    });

    it("inputs_embeds prefill equals input_ids", () => {
      const inputs = leftPadded([longPrompt.slice(0, 9), shortPrompt]);
      const embeds = model.embedTokens(inputs.input_ids);
      const options = { max_new_tokens: 4, eos_token_id: null, output_logits: true };
      const fromIds = generate(model, inputs, options);
      const fromEmbeds = generate(model, { inputs_embeds: embeds, attention_mask: inputs.attention_mask }, options);
      expect(fromEmbeds.newTokens).toEqual(fromIds.newTokens);
      fromIds.logits!.forEach((rows, step) => rows.forEach((logits, row) => expect(relativeError(fromEmbeds.logits![step][row], logits)).toBeLessThanOrEqual(1e-6)));
      tf.dispose([...Object.values(inputs), embeds]);
    });

    it("eos ends a row and pads it", () => {
      const inputs = leftPadded([longPrompt.slice(0, 9), shortPrompt]);
      const free = generate(model, inputs, { max_new_tokens: STEPS, eos_token_id: null }).newTokens;
      const eos = free[0][2];
      const stopped = generate(model, inputs, { max_new_tokens: STEPS, eos_token_id: eos, pad_token_id: 0 }).newTokens;

      const ends = free.map((tokens) => (tokens.includes(eos) ? tokens.indexOf(eos) + 1 : STEPS));
      const length = Math.max(...ends);
      expect(ends[0]).toBeLessThanOrEqual(3);
      free.forEach((tokens, row) => {
        const expected = [...tokens.slice(0, ends[row]), ...new Array<number>(length - ends[row]).fill(0)];
        expect(stopped[row], `row ${row}`).toEqual(expected);
      });

      const firstTokens = [free[0][0], free[1][0]];
      const bothStop = generate(model, inputs, { max_new_tokens: STEPS, eos_token_id: firstTokens }).newTokens;
      expect(bothStop).toEqual([[firstTokens[0]], [firstTokens[1]]]);
      tf.dispose(Object.values(inputs));
    });

    it("top_k sampling stays in the top two and repeats with a seed", () => {
      const inputs = leftPadded([longPrompt.slice(0, 9), shortPrompt]);
      const options = { max_new_tokens: STEPS, eos_token_id: null, do_sample: true, top_k: 2, temperature: 1.5, output_logits: true, seed: 7 };
      const first = generate(model, inputs, options);
      const second = generate(model, inputs, options);
      expect(second.newTokens).toEqual(first.newTokens);
      first.logits!.forEach((rows, step) =>
        rows.forEach((logits, row) => {
          const topTwo = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]).slice(0, 2);
          expect(topTwo, `row ${row} step ${step}`).toContain(first.newTokens[row][step]);
        }),
      );
      tf.dispose(Object.values(inputs));
    });

    it("leaks no tensors", async () => {
      const inputs = leftPadded([longPrompt.slice(0, 9), shortPrompt]);
      const embeds = model.embedTokens(inputs.input_ids);
      const leaked = await countLeakedTensors(() => {
        generate(model, inputs, { max_new_tokens: STEPS, do_sample: true, top_p: 0.9, repetition_penalty: 1.3, output_scores: true });
        generate(model, { ...inputs, inputs_embeds: embeds }, { max_new_tokens: 3, eos_token_id: [] });
      });
      expect(leaked).toBe(0);
      tf.dispose([...Object.values(inputs), embeds]);
    });
  });
});

describe("generate with Mistral's sliding window", () => {
  const directory = fixtureDirectory("mistral");
  const config = readJson<MistralConfig>(join(directory, "config.json"));

  beforeAll(async () => {
    await useBackend("cpu");
  });

  /** Builds a Mistral with the fixture's weights and the given sliding_window. */
  function mistral(slidingWindow: number | null): MistralForCausalLM {
    const model = new MistralForCausalLM({ ...config, sliding_window: slidingWindow });
    const tensors = readTensors(join(directory, "model.safetensors"));
    model.loadStateDict(tensors);
    tf.dispose([...tensors.values()]);
    return model;
  }

  it("changes the cached logits once the sequence outgrows it", () => {
    const prompt = readRefs("mistral").inputs.input_ids[0].slice(0, 4);
    const windowed = mistral(6);
    const unlimited = mistral(null);
    const ids = tf.tensor2d([prompt], undefined, "int32");
    const output = generate(windowed, { input_ids: ids }, { max_new_tokens: STEPS, eos_token_id: null, output_logits: true });
    const withoutWindow = uncachedStepLogits(unlimited, prompt, output.newTokens[0]);

    // Step s predicts from position 3 + s, which attends every earlier key while 3 + s <= 6.
    for (let step = 0; step <= 3; step++) {
      expect(relativeError(output.logits![step][0], withoutWindow[step]), `step ${step}`).toBeLessThanOrEqual(TOLERANCE);
    }
    expect(relativeError(output.logits![STEPS - 1][0], withoutWindow[STEPS - 1])).toBeGreaterThan(1e-3);
    expectCachedEqualsUncached(windowed, output, 0, prompt);
    ids.dispose();
    windowed.dispose();
    unlimited.dispose();
  });
});

describe("generate inputs", () => {
  const refs = readRefs("llama");
  const prompts = [refs.inputs.input_ids[0].slice(0, 9), refs.inputs.input_ids[1].slice(0, 5)];
  let model: DecoderForCausalLM;

  beforeAll(async () => {
    await useBackend("cpu");
    model = loadPretrained<DecoderForCausalLM>(fixtureDirectory("llama"));
  });

  afterAll(() => model.dispose());

  it("repetition penalty covers prompt and new tokens, not padding", () => {
    expect(prompts[1]).not.toContain(0); // so the padding id 0 would show up if it were penalized
    const inputs = leftPadded(prompts);
    const penalty = 1.5;
    const output = generate(model, inputs, { max_new_tokens: 4, eos_token_id: null, repetition_penalty: penalty, output_logits: true, output_scores: true });
    output.logits!.forEach((rows, step) =>
      rows.forEach((logits, row) => {
        const present = new Set([...prompts[row], ...output.newTokens[row].slice(0, step)]);
        const penalized = (value: number) => (value < 0 ? value * penalty : value / penalty);
        const expected = Array.from(logits, (value, id) => (present.has(id) ? penalized(value) : value));
        expect(Array.from(output.scores![step][row]), `row ${row} step ${step}`).toEqual(expected.map(Math.fround));
      }),
    );
    tf.dispose(Object.values(inputs));
  });

  it("rejects right padding, a missing prompt and mismatched shapes", async () => {
    const ids = tf.tensor2d([[5, 6, 7]], undefined, "int32");
    const rightPadded = tf.tensor2d([[1, 1, 0]], undefined, "int32");
    const shortMask = tf.tensor2d([[1, 1]], undefined, "int32");
    const leaked = await countLeakedTensors(() => {
      expect(() => generate(model, { input_ids: ids, attention_mask: rightPadded }, { max_new_tokens: 2 })).toThrow(
        /row 0 of attention_mask ends with padding, .* pad prompts on the left/,
      );
      expect(() => generate(model, {}, { max_new_tokens: 2 })).toThrow(/pass input_ids or inputs_embeds as the prompt/);
      expect(() => generate(model, { input_ids: ids, attention_mask: shortMask }, { max_new_tokens: 2 })).toThrow(
        /attention_mask is \[1,2\] but the prompt is \[1, 3\]/,
      );
    });
    expect(leaked).toBe(0);
    tf.dispose([ids, rightPadded, shortMask]);
  });
});
