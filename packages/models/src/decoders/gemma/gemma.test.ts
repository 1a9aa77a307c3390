import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSafetensors, setLogSink, type SafetensorsWriteEntry } from "@mm/core";
import { assertClose, readFloat32, readJson, useBackend } from "@mm/core/testing";
import { loadPretrained } from "../../pretrained/load-save";
import { describeFixtureParity, fixtureDirectory, fixtureInputs, readRefs, writeBrokenCheckpoint } from "../testing/fixture-suite";
import { GemmaForCausalLM, readGemmaSettings, type GemmaConfig } from "./gemma";

const directory = fixtureDirectory("gemma");
const config = readJson<GemmaConfig>(join(directory, "config.json"));
const refs = readRefs("gemma");

describe("GemmaForCausalLM", () => {
  // The fixture ties lm_head to embed_tokens, sets head_dim 16 (not 64 / 4) and pad_token_id 0,
  // whose embedding row gets only the lm_head part of its gradient.
  describeFixtureParity("gemma");

  describe("embeddings and the tied head", () => {
    let model: GemmaForCausalLM;
    let scratch: string;

    beforeAll(async () => {
      await useBackend("cpu");
      model = loadPretrained<GemmaForCausalLM>(directory);
      scratch = mkdtempSync(join(tmpdir(), "mm-gemma-"));
    });

    afterAll(() => {
      model.dispose();
      rmSync(scratch, { recursive: true, force: true });
    });

    it("embedTokens includes the sqrt(hidden_size) scale", () => {
      expect(model.embeddingScale).toBe(8);
      const inputs = fixtureInputs(refs);
      const embeds = model.embedTokens(inputs.input_ids);
      assertClose(embeds, readFloat32(join(directory, refs.outputs.hidden_states[0].file)), 1e-6, "scaled embeddings");
      tf.dispose([...Object.values(inputs), embeds]);
    });

    it("has no lm_head parameter", () => {
      expect(model.namedParameters().some(([name]) => name === "lm_head.weight")).toBe(false);
      expect(model.tiedParameterNames()).toEqual(["lm_head.weight"]);
    });

    it("ignores an lm_head.weight stored in the checkpoint", () => {
      const withHead = join(scratch, "with-head");
      const tensors = readSafetensors(join(directory, "model.safetensors")).tensors;
      const entries = new Map<string, SafetensorsWriteEntry>([...tensors].map(([key, entry]) => [key, { shape: entry.shape, values: entry.values }]));
      entries.set("lm_head.weight", { shape: entries.get("model.embed_tokens.weight")!.shape, values: new Float32Array(512 * 64) });
      writeBrokenCheckpoint(withHead, directory, entries);
      const loaded = loadPretrained<GemmaForCausalLM>(withHead);
      const inputs = fixtureInputs(refs);
      const output = loaded.forward({ input_ids: inputs.input_ids, attention_mask: inputs.attention_mask });
      assertClose(output.logits, readFloat32(join(directory, refs.outputs.logits.file)), 1e-4, "logits");
      tf.dispose([...Object.values(inputs), output.logits]);
      loaded.dispose();
    });
  });

  describe("config", () => {
    it("reads hidden_activation and ignores hidden_act", () => {
      const lines: string[] = [];
      const previous = setLogSink((_level, _scope, message) => lines.push(message));
      try {
        expect(readGemmaSettings({ ...config, hidden_activation: "gelu" }).hiddenAct).toBe("gelu");
        expect(readGemmaSettings({ ...config, hidden_activation: null, hidden_act: "gelu" }).hiddenAct).toBe("gelu_pytorch_tanh");
      } finally {
        setLogSink(previous);
      }
      expect(lines.join("\n")).toMatch(/"hidden_activation" is not set, so the MLP uses gelu_pytorch_tanh and ignores "hidden_act": "gelu"/);
    });

    it("defaults to transformers' GemmaConfig values", () => {
      const settings = readGemmaSettings({ model_type: "gemma" });
      expect(settings.headDim).toBe(256);
      expect(settings.tieWordEmbeddings).toBe(true);
      expect(settings.paddingIdx).toBe(0);
      expect(settings.embeddingScale).toBe(Math.fround(Math.sqrt(3072)));
    });
  });
});
