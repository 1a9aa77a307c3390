// Builds the benchmark's reference model and batch from bench/reference-config.json.
// Shape letters: B batch, T sequence (image placeholders + text tokens), N image tokens.
import { readFileSync } from "node:fs";
import { core, models, tf } from "./mm-packages.mjs";

/** Reads and parses bench/reference-config.json. */
export function readReferenceConfig() {
  return JSON.parse(readFileSync(new URL("../reference-config.json", import.meta.url), "utf8"));
}

/** `MultimodalModel.train` arguments of each freeze mode, keyed by the mode's name. */
export const FREEZE_MODES = {
  all: {},
  "frozen-vision": { encodersMode: { vision: [false, true] } },
  "projector-only": { encodersMode: { vision: [false, true] }, llmMode: false },
};

/** Counts the image tokens per sample that CLIP produces: one per patch plus the class token. */
export function imageTokensPerSample(config) {
  return (config.vision.image_size / config.vision.patch_size) ** 2 + 1;
}

/**
 * Builds the CLIP vision encoder, the MLP projector and the Llama decoder with random weights
 * drawn after `manualSeed(seed)`, and sets the vision placeholder id.
 */
export function buildReferenceModel(config) {
  core.manualSeed(config.batch.seed);
  const encoder = models.createModelFromConfig(config.vision, "bench/reference-config.json (vision)");
  const languageModel = models.createModelFromConfig(config.languageModel, "bench/reference-config.json (languageModel)");
  const projector = new core.MultimodalProjector({
    inFeatures: encoder.hiddenSize,
    outFeatures: languageModel.hiddenSize,
    projectionType: config.projector.type,
    activation: config.projector.activation,
  });
  const model = new core.MultimodalModel({
    encoders: { vision: new core.ModalEncoderModule({ model: encoder, projector }) },
    languageModel,
  });
  model.setModalityTokenIds({ vision: config.batch.imageTokenId });
  return model;
}

/**
 * Builds one batch of random inputs: pixel_values [B, 3, H, W] from N(0, 1), and input_ids
 * [B, N + text tokens] with the N image placeholders first, then text ids drawn uniformly from
 * the vocabulary. labels are the input ids; the model sets -100 at the placeholders and the loss
 * shifts them to next-token targets.
 */
export function buildRandomBatch(config) {
  const random = new core.SeededRandom(config.batch.seed + 1);
  const { size: batchSize, textTokens, imageTokenId } = config.batch;
  const imageTokens = imageTokensPerSample(config);
  const length = imageTokens + textTokens;

  const ids = new Int32Array(batchSize * length);
  for (let sample = 0; sample < batchSize; sample++) {
    for (let position = 0; position < length; position++) {
      ids[sample * length + position] = position < imageTokens ? imageTokenId : random.int(config.languageModel.vocab_size);
    }
  }
  const { num_channels: channels, image_size: imageSize } = config.vision;
  return {
    input_ids: tf.tensor(ids, [batchSize, length], "int32"),
    labels: tf.tensor(ids, [batchSize, length], "int32"),
    encoderInputs: {
      vision: {
        inputs: { pixel_values: core.randomNormalTensor([batchSize, channels, imageSize, imageSize], 1, random) },
        inputsPerSample: new Array(batchSize).fill(1),
      },
    },
  };
}

/** Counts the tokens per batch, image placeholders included: B · T. */
export function tokensPerBatch(config) {
  return config.batch.size * (imageTokensPerSample(config) + config.batch.textTokens);
}
