import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, InputError, ShapeError, readTensors } from "@mm/core";
import { assertClose, readFloat32, readJson, useBackend } from "@mm/core/testing";
import { createModelFromConfig } from "../../pretrained/registry";
import { describeFixtureParity, fixtureDirectory, fixtureInputs, readRefs } from "../testing/fixture-suite";
import { LlamaForCausalLM, type LlamaConfig } from "./llama";

const directory = fixtureDirectory("llama");
const config = readJson<LlamaConfig>(join(directory, "config.json"));
const refs = readRefs("llama");

/** Builds a Llama with the fixture's weights under a modified config, without lm_head.weight when tied. */
function fixtureModel(changes: Partial<LlamaConfig> = {}): LlamaForCausalLM {
  const model = new LlamaForCausalLM({ ...config, ...changes });
  const tensors = readTensors(join(directory, "model.safetensors"));
  if (changes.tie_word_embeddings === true) {
    tensors.get("lm_head.weight")!.dispose();
    tensors.delete("lm_head.weight");
  }
  model.loadStateDict(tensors);
  tf.dispose([...tensors.values()]);
  return model;
}

describe("LlamaForCausalLM", () => {
  describeFixtureParity("llama");

  describe("inputs", () => {
    let model: LlamaForCausalLM;

    beforeAll(async () => {
      await useBackend("cpu");
      model = fixtureModel();
    });

    afterAll(() => model.dispose());

    it("inputs_embeds from embedTokens equal input_ids", () => {
      const inputs = fixtureInputs(refs);
      const embeds = model.embedTokens(inputs.input_ids);
      const fromEmbeds = model.forward({ inputs_embeds: embeds, attention_mask: inputs.attention_mask });
      assertClose(fromEmbeds.logits, readFloat32(join(directory, refs.outputs.logits.file)), 1e-4, "logits");
      tf.dispose([...Object.values(inputs), embeds, fromEmbeds.logits]);
    });

    it("loss divides by a given normalizer", () => {
      const inputs = fixtureInputs(refs);
      const trainedTargets = refs.inputs.labels.flatMap((row) => row.slice(1)).filter((label) => label !== -100).length;
      const output = model.forward({ ...inputs, lossNormalizer: 20 });
      assertClose([output.loss!.dataSync()[0]], [(refs.outputs.loss * trainedTargets) / 20], 1e-5, "loss");
      tf.dispose([...Object.values(inputs), output.logits, output.loss!]);
    });

    it("left padding gives finite logits equal to the unpadded row", () => {
      const ids = refs.inputs.input_ids[1].slice(0, 8);
      const padded = tf.tensor2d([[0, 0, 0, ...ids]], undefined, "int32");
      const mask = tf.tensor2d([[0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]], undefined, "int32");
      const positions = tf.tensor2d([[0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7]], undefined, "int32");
      const unpadded = tf.tensor2d([ids], undefined, "int32");
      const left = model.forward({ input_ids: padded, attention_mask: mask, position_ids: positions });
      const plain = model.forward({ input_ids: unpadded });
      expect(left.logits.dataSync().every(Number.isFinite)).toBe(true);
      const realPositions = tf.slice(left.logits, [0, 3, 0], [1, 8, -1]);
      assertClose(realPositions, plain.logits, 1e-5, "logits of the real tokens");
      tf.dispose([padded, mask, positions, unpadded, left.logits, plain.logits, realPositions]);
    });

    it("leaves hidden_states out unless asked", () => {
      const inputs = fixtureInputs(refs);
      const output = model.forward({ input_ids: inputs.input_ids });
      expect(output.hidden_states).toBeUndefined();
      expect(output.loss).toBeUndefined();
      tf.dispose([...Object.values(inputs), output.logits]);
    });

    it("rejects both or neither of input_ids and inputs_embeds", () => {
      const ids = tf.tensor2d([[1, 2]], undefined, "int32");
      const embeds = tf.zeros([1, 2, config.hidden_size!]);
      expect(() => model.forward({})).toThrow(InputError);
      expect(() => model.forward({ input_ids: ids, inputs_embeds: embeds })).toThrow(/exactly one of input_ids and inputs_embeds, got both/);
      tf.dispose([ids, embeds]);
    });

    it("rejects ids outside the vocabulary and mismatched masks", () => {
      const outside = tf.tensor2d([[1, 512]], undefined, "int32");
      const ids = tf.tensor2d([[1, 2, 3]], undefined, "int32");
      const shortMask = tf.tensor2d([[1, 1]], undefined, "int32");
      expect(() => model.forward({ input_ids: outside })).toThrow(/input_ids contains 512 .* outside the vocabulary of 512 tokens/);
      expect(() => model.forward({ input_ids: ids, attention_mask: shortMask })).toThrow(ShapeError);
      expect(() => model.forward({ input_ids: ids, position_ids: shortMask })).toThrow(/position_ids is \[1,2\] but the inputs are \[1, 3\]/);
      tf.dispose([outside, ids, shortMask]);
    });
  });

  describe("config", () => {
    beforeAll(async () => {
      await useBackend("cpu");
    });

    it("is found by model_type and by architectures", () => {
      const byType = createModelFromConfig({ ...config });
      const byArchitecture = createModelFromConfig({ ...config, model_type: undefined });
      expect(byType).toBeInstanceOf(LlamaForCausalLM);
      expect(byArchitecture).toBeInstanceOf(LlamaForCausalLM);
      byType.dispose();
      byArchitecture.dispose();
    });

    it("names parameters as transformers does", () => {
      const model = new LlamaForCausalLM({ ...config, num_hidden_layers: 1, attention_bias: true, mlp_bias: true });
      expect(model.namedParameters().map(([name]) => name)).toEqual([
        "model.embed_tokens.weight",
        ...["q_proj", "k_proj", "v_proj", "o_proj"].flatMap((p) => [`model.layers.0.self_attn.${p}.weight`, `model.layers.0.self_attn.${p}.bias`]),
        ...["gate_proj", "up_proj", "down_proj"].flatMap((p) => [`model.layers.0.mlp.${p}.weight`, `model.layers.0.mlp.${p}.bias`]),
        "model.layers.0.input_layernorm.weight",
        "model.layers.0.post_attention_layernorm.weight",
        "model.norm.weight",
        "lm_head.weight",
      ]);
      model.dispose();
    });

    it("rejects heads that do not divide into key/value groups", () => {
      expect(() => new LlamaForCausalLM({ ...config, num_key_value_heads: 3 }, "tiny/config.json")).toThrow(
        /tiny\/config\.json: num_attention_heads \(4\) must be a multiple of num_key_value_heads \(3\)/,
      );
    });

    it("rejects an unknown rope_scaling type", () => {
      expect(() => new LlamaForCausalLM({ ...config, rope_scaling: { type: "yarn", factor: 4 } })).toThrow(ConfigError);
      expect(() => new LlamaForCausalLM({ ...config, rope_scaling: { rope_type: "yarn", factor: 4 } })).toThrow(/unsupported rope_scaling type "yarn"/);
    });

    it("rejects an unknown activation", () => {
      expect(() => new LlamaForCausalLM({ ...config, hidden_act: "swiglu" })).toThrow(/unknown activation "swiglu"/);
    });
  });

  describe("rope_scaling and tied embeddings", () => {
    beforeAll(async () => {
      await useBackend("cpu");
    });

    it("linear rope_scaling divides the positions by its factor", () => {
      const scaled = fixtureModel({ rope_scaling: { type: "linear", factor: 2 } });
      const plain = fixtureModel();
      const ids = tf.tensor2d([refs.inputs.input_ids[0]], undefined, "int32");
      const halfPositions = tf.tensor2d([Array.from({ length: 12 }, (_, t) => t / 2)]);
      const fromScaled = scaled.forward({ input_ids: ids });
      const fromPlain = plain.forward({ input_ids: ids, position_ids: halfPositions });
      assertClose(fromScaled.logits, fromPlain.logits, 1e-6, "logits");
      tf.dispose([ids, halfPositions, fromScaled.logits, fromPlain.logits]);
      scaled.dispose();
      plain.dispose();
    });

    it("a tied head has no lm_head parameter and multiplies by the embeddings", () => {
      const model = fixtureModel({ tie_word_embeddings: true });
      expect(model.namedParameters().some(([name]) => name === "lm_head.weight")).toBe(false);
      expect(model.tiedParameterNames()).toEqual(["lm_head.weight"]);
      const ids = tf.tensor2d([[5, 7, 9]], undefined, "int32");
      const output = model.forward({ input_ids: ids }, { outputHiddenStates: true });
      const finalHidden = output.hidden_states![output.hidden_states!.length - 1]; // [1, 3, C]
      const expected = tf.matMul(finalHidden, model.model.embedTokens.weight, false, true); // [1, 3, V]
      assertClose(output.logits, expected, 1e-6, "tied logits");
      tf.dispose([ids, output.logits, ...output.hidden_states!, expected]);
      model.dispose();
    });

    it("the pad_token_id row gets no gradient from the lookup", () => {
      const ids = tf.tensor2d([[0, 5, 0, 7]], undefined, "int32");
      const labels = tf.tensor2d([[-100, 5, 0, 7]], undefined, "int32");
      const embeddingGradient = (model: LlamaForCausalLM) => {
        const weight = model.model.embedTokens.weight;
        const { value, grads } = tf.variableGrads(() => model.forward({ input_ids: ids, labels }).loss as tf.Scalar, [weight]);
        const padRow = Float32Array.from(grads[weight.name].slice([0, 0], [1, -1]).dataSync());
        tf.dispose([value, ...Object.values(grads)]);
        return padRow;
      };
      const withPadding = fixtureModel({ pad_token_id: 0 });
      const withoutPadding = fixtureModel();
      expect(embeddingGradient(withPadding).every((value) => value === 0)).toBe(true);
      expect(embeddingGradient(withoutPadding).some((value) => value !== 0)).toBe(true);
      tf.dispose([ids, labels]);
      withPadding.dispose();
      withoutPadding.dispose();
    });

    it("an untied checkpoint without lm_head.weight is rejected", () => {
      const model = new LlamaForCausalLM(config);
      const tensors = readTensors(join(directory, "model.safetensors"));
      tensors.get("lm_head.weight")!.dispose();
      tensors.delete("lm_head.weight");
      expect(() => model.loadStateDict(tensors, { allowMissing: model.tiedParameterNames() })).toThrow(/missing: lm_head\.weight \[512,64\]/);
      tf.dispose([...tensors.values()]);
      model.dispose();
    });
  });
});
