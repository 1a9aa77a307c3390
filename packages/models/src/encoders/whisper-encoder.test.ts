import { join } from "node:path";
import { readTensors } from "@mm/core";
import { assertClose, useBackend } from "@mm/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { WhisperEncoder, whisperSinusoids } from "./index";
import { describeEncoderFixture } from "./encoder-suite";
import { Fixture } from "./encoder-test-support";

describeEncoderFixture({
  title: "WhisperEncoder",
  fixture: "whisper",
  inputKey: "input_features",
  lastHiddenStateKey: "encoder_last_hidden_state",
  hiddenStatesKey: "encoder_hidden_states",
  hasPooler: false,
  wrongInputShape: [2, 80, 30],
  wrongInputMessage: /WhisperEncoder: input_features has shape \[2,80,30\] but the model expects \[batch, 80, 32\]/,
  skippedNames: /^model\.decoder\./,
});

const fixture = new Fixture("whisper");

describe("WhisperEncoder", () => {
  beforeAll(async () => {
    await useBackend("wasm");
  });

  it("reports its sizes", () => {
    const model = fixture.load<WhisperEncoder>();
    expect(model).toBeInstanceOf(WhisperEncoder);
    expect(model.hiddenSize).toBe(32);
    expect(model.mainInputName).toBe("input_features");
    expect(model.numPositions).toBe(16);
    expect(model.numFeatures).toBe(16);
    expect(model.numFrames).toBe(32);
    model.dispose();
  });

  it("initialises the positions as transformers does", () => {
    const stored = readTensors(join(fixture.directory, "model.safetensors"));
    const expected = stored.get("model.encoder.embed_positions.weight")!;
    const sinusoids = whisperSinusoids(16, 32);
    assertClose(sinusoids, expected, 1e-6, "embed_positions");
    sinusoids.dispose();
    for (const tensor of stored.values()) tensor.dispose();
  });

  it("keeps the positions frozen", () => {
    const model = fixture.load<WhisperEncoder>();
    model.setTrainable(false).setTrainable(true);
    const frozen = model.namedParameters().filter(([, variable]) => !variable.trainable).map(([name]) => name);
    expect(frozen).toEqual(["model.encoder.embed_positions.weight"]);
    model.dispose();
  });

  it("writes back the decoder fields of the config", () => {
    const model = fixture.load<WhisperEncoder>();
    expect(model.toConfigJson()).toMatchObject({ model_type: "whisper", decoder_layers: 2, d_model: 32, vocab_size: 128 });
    model.dispose();
  });
});
