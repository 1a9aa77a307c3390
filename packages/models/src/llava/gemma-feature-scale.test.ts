// Whether injected features must be multiplied by Gemma's embedding scale, decided against the
// Gemma fixture (transformers 4.40.2). transformers' LlavaForConditionalGeneration merges the
// projector output into inputs_embeds and then runs GemmaForCausalLM, whose forward multiplies
// inputs_embeds by sqrt(hidden_size). Here embedTokens already includes that factor and
// inputs_embeds are not scaled again, so the MultimodalModel multiplies the features instead.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModalEncoderModule, Module, MultimodalModel, readSafetensors, type EncoderOutput, type ModalityEncoder, type ProjectorModule } from "@mm/core";
import { assertClose, readFloat32, readJson, relativeError, useBackend } from "@mm/core/testing";
import { GemmaForCausalLM, loadPretrained } from "../index";

const GEMMA_FIXTURE = fileURLToPath(new URL("../../test-fixtures/gemma", import.meta.url));
const HIDDEN = 64;
const PLACEHOLDER = 512; // one past Gemma's vocabulary, as the processor appends modality tokens

interface GemmaRefs {
  inputs: { input_ids: number[][]; attention_mask: number[][] };
  outputs: { logits: { file: string }; hidden_states: Array<{ file: string }> };
}

/** Positions of each row whose tokens become one three-row "image". */
const IMAGE_POSITIONS = [
  [2, 3, 4],
  [1, 2, 3],
];

/** Returns its pixel_values unchanged: the test passes the feature rows in directly. */
class PassThroughEncoder extends Module implements ModalityEncoder {
  readonly hiddenSize = HIDDEN;
  readonly mainInputName = "pixel_values";
  readonly numFeatures = 3;

  forward(inputs: Record<string, tf.Tensor>): EncoderOutput {
    return { last_hidden_state: inputs.pixel_values.clone() };
  }
}

class PassThroughProjector extends Module implements ProjectorModule {
  readonly inFeatures = HIDDEN;
  readonly outFeatures = HIDDEN;

  forward(features: tf.Tensor): tf.Tensor {
    return features.clone();
  }
}

/** Rows of the checkpoint's (unscaled) embedding table, as a flat float32 array of [ids.length, 64]. */
function embeddingRows(table: Float32Array, ids: number[]): Float32Array {
  const rows = new Float32Array(ids.length * HIDDEN);
  ids.forEach((id, i) => rows.set(table.subarray(id * HIDDEN, (id + 1) * HIDDEN), i * HIDDEN));
  return rows;
}

describe("Gemma embedding scale and injected features", () => {
  const refs = readJson<GemmaRefs>(join(GEMMA_FIXTURE, "refs.json"));
  const ids = refs.inputs.input_ids;
  const table = readSafetensors(join(GEMMA_FIXTURE, "model.safetensors")).tensors.get("model.embed_tokens.weight")!.values as Float32Array;
  let llm: GemmaForCausalLM;

  beforeAll(async () => {
    await useBackend("wasm");
    llm = loadPretrained<GemmaForCausalLM>(GEMMA_FIXTURE);
  });

  afterAll(() => {
    llm.dispose();
  });

  it("transformers scales the embeddings Gemma receives", () => {
    const embeddings = readFloat32(join(GEMMA_FIXTURE, refs.outputs.hidden_states[0].file));
    const scaled = embeddingRows(table, ids.flat()).map((value) => value * Math.fround(Math.sqrt(HIDDEN)));
    expect(relativeError(scaled, embeddings)).toBeLessThan(1e-6);
    expect(llm.embeddingScale).toBe(8);
  });

  /**
   * Replaces the tokens at IMAGE_POSITIONS by placeholders and injects their unscaled embedding
   * rows as features. transformers' LLaVA would then feed Gemma the very inputs_embeds of the
   * text-only batch, so its logits are the fixture's.
   */
  function logitsWithInjectedRows(scaleInjectedFeatures: boolean): tf.Tensor {
    const vision = new ModalEncoderModule({ model: new PassThroughEncoder(), projector: new PassThroughProjector() });
    const model = new MultimodalModel({ encoders: { vision }, languageModel: llm, scaleInjectedFeatures });
    model.setModalityTokenIds({ vision: PLACEHOLDER });
    const placeholderIds = ids.map((row, b) => row.map((id, t) => (IMAGE_POSITIONS[b].includes(t) ? PLACEHOLDER : id)));
    const features = IMAGE_POSITIONS.map((positions, b) => embeddingRows(table, positions.map((t) => ids[b][t])));
    const batch = {
      input_ids: tf.tensor2d(placeholderIds, undefined, "int32"),
      attention_mask: tf.tensor2d(refs.inputs.attention_mask, undefined, "int32"),
      encoderInputs: { vision: { inputs: { pixel_values: tf.tensor3d(Float32Array.from(features.flatMap((rows) => [...rows])), [2, 3, HIDDEN]) }, inputsPerSample: [1, 1] } },
    };
    const { logits } = model.forward(batch);
    tf.dispose([batch.input_ids, batch.attention_mask, batch.encoderInputs.vision.inputs.pixel_values]);
    return logits;
  }

  it("matches transformers when injected features are scaled (the default)", () => {
    const logits = logitsWithInjectedRows(true);
    assertClose(logits, readFloat32(join(GEMMA_FIXTURE, refs.outputs.logits.file)), 1e-4, "logits with scaled features");
    logits.dispose();
  });

  it("differs from transformers when injected features are not scaled", () => {
    const logits = logitsWithInjectedRows(false);
    expect(relativeError(logits, readFloat32(join(GEMMA_FIXTURE, refs.outputs.logits.file)))).toBeGreaterThan(1e-2);
    logits.dispose();
  });
});
