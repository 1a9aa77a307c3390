import * as tf from "@tensorflow/tfjs";
import { ConfigError, ModalityMismatchError, ShapeError } from "../errors/errors";
import { getLogger } from "../logging/logger";
import { Module } from "../nn/module";
import { IGNORE_INDEX } from "../ops/cross-entropy";
import { injectFeatures, maskModalityIds, type ModalityFeatures } from "../ops/inject-features";
import type { CausalLanguageModel, LanguageModelOutput } from "./contracts";
import { resolveEncoderModes, type EncoderModes, type TrainModes } from "./freeze-modes";
import { ModalEncoderModule, type EncoderInputs } from "./modal-encoder-module";
import { loadMultimodalPretrained } from "./multimodal-loaders";
import { MultimodalProjector, type ProjectionType } from "./projector";

const log = getLogger("multimodal");

/**
 * A batch for the MultimodalModel. Tensor keys are spelled as in transformers.
 * `encoderInputs[modality]` contains that encoder's inputs (K inputs along axis 0) and
 * `inputsPerSample`, the number of those K inputs that belong to each of the B samples.
 */
export interface MultimodalBatch {
  input_ids: tf.Tensor;
  attention_mask?: tf.Tensor;
  labels?: tf.Tensor;
  encoderInputs?: Record<string, { inputs: EncoderInputs; inputsPerSample: number[] }>;
}

export interface MultimodalModelOptions {
  encoders: Record<string, ModalEncoderModule>;
  languageModel: CausalLanguageModel;
  /** Projector type created for an encoder that has none (default "mlp"). */
  initProjectorType?: ProjectionType;
  /** Activation of a created "mlp" projector (default "gelu"). */
  initActivation?: string;
  /**
   * Multiplies the injected features by the language model's `embeddingScale` (default true).
   * transformers' LLaVA and Cornstarch merge features into `inputs_embeds` and then run the text
   * model, and Gemma multiplies `inputs_embeds` by sqrt(hidden_size) inside its forward pass, so
   * there the features are scaled too. Here `embedTokens` already includes the scale and the LLM
   * does not scale `inputs_embeds`, so the features need the factor to match them. Set false
   * for recipes that inject features unscaled (transformers' modeling_paligemma.py divides them
   * by sqrt(hidden_size) before the merge, which cancels the scale). Language models without
   * `embeddingScale` use 1.
   */
  scaleInjectedFeatures?: boolean;
}

/** Encoder features computed ahead of the forward pass, e.g. outside the gradient tape. */
export type PrecomputedFeatures = Record<string, { encoded?: tf.Tensor; projected?: tf.Tensor }>;

export interface ForwardOptions {
  precomputed?: PrecomputedFeatures;
  /** Loss normaliser over a whole optimizer step (see causalLmLoss). */
  lossNormalizer?: number;
  /** Compute logits only where the loss needs them (see LanguageModelInputs.logitsForLossOnly). */
  logitsForLossOnly?: boolean;
}

/**
 * Modality encoders with projectors in front of a decoder-only LLM. Parameter paths:
 * `<modality>_encoder.module.*`, `<modality>_encoder.projector.*`, `language_model.*`.
 */
export class MultimodalModel extends Module {
  readonly encoders: Record<string, ModalEncoderModule>;
  readonly languageModel: CausalLanguageModel;
  readonly scaleInjectedFeatures: boolean;
  modalityTokenIds: Record<string, number> = {};
  private encoderModes: EncoderModes;
  private llmMode = true;
  training = true;

  constructor(options: MultimodalModelOptions) {
    super();
    this.encoders = options.encoders;
    this.languageModel = options.languageModel;
    this.scaleInjectedFeatures = options.scaleInjectedFeatures ?? true;
    for (const [modality, encoder] of Object.entries(this.encoders)) {
      this.attachProjector(modality, encoder, options);
      this.addModule(`${modality}_encoder`, encoder);
    }
    this.addModule("language_model", this.languageModel);
    this.encoderModes = resolveEncoderModes(this.modalities, {});
  }

  /**
   * Loads a whole multimodal checkpoint folder (such as a Hugging Face LLaVA folder) through the
   * loader registered for its `config.json` `model_type`. The loaders live in `@mm/models`, which
   * registers them when imported, so import `@mm/models` first:
   *
   * @example
   * import "@mm/models";
   * const model = MultimodalModel.fromPretrainedMultimodal("models/llava-1.5-7b-hf");
   */
  static fromPretrainedMultimodal(directory: string): MultimodalModel {
    return loadMultimodalPretrained(directory);
  }

  get modalities(): string[] {
    return Object.keys(this.encoders);
  }

  private attachProjector(modality: string, encoder: ModalEncoderModule, options: MultimodalModelOptions): void {
    const expectedIn = encoder.module.hiddenSize;
    const expectedOut = this.languageModel.hiddenSize;
    if (encoder.projector === undefined) {
      const projectionType = options.initProjectorType ?? "mlp";
      log.warn(`${modality}: no projector given; creating a "${projectionType}" projector ${expectedIn} -> ${expectedOut} with random weights`);
      encoder.setProjector(new MultimodalProjector({ inFeatures: expectedIn, outFeatures: expectedOut, projectionType, activation: options.initActivation }));
      return;
    }
    const { inFeatures, outFeatures } = encoder.projector;
    if (inFeatures !== expectedIn || outFeatures !== expectedOut) {
      throw new ShapeError(
        `${modality}: the projector maps ${inFeatures} -> ${outFeatures} features but the encoder outputs ${expectedIn} ` +
          `and the language model expects ${expectedOut}; build the projector as ${expectedIn} -> ${expectedOut}`,
      );
    }
  }

  /** Records the placeholder token id of each modality, as the processor registered them. */
  setModalityTokenIds(ids: Record<string, number>): void {
    for (const modality of Object.keys(ids)) {
      if (!this.modalities.includes(modality)) {
        throw new ConfigError(`modality token "${modality}" has no encoder; this model has ${this.modalities.join(", ")}`, modality);
      }
    }
    this.modalityTokenIds = { ...ids };
  }

  /**
   * Sets which parts train. Frozen parts get no gradient, no optimizer state and no backward work.
   * Example: `model.train({ encodersMode: { vision: [false, true] }, llmMode: false })` trains only
   * the vision projector.
   */
  train(modes: TrainModes = {}): this {
    this.encoderModes = resolveEncoderModes(this.modalities, modes);
    this.llmMode = modes.llmMode ?? true;
    for (const [modality, [encoderTrainable, projectorTrainable]] of Object.entries(this.encoderModes)) {
      this.encoders[modality].module.setTrainable(encoderTrainable);
      this.encoders[modality].projector?.setTrainable(projectorTrainable);
    }
    this.languageModel.setTrainable(this.llmMode);
    this.training = true;
    return this;
  }

  /** Switches to inference; trainable flags stay as the last `train()` set them. */
  eval(): this {
    this.training = false;
    return this;
  }

  /** The [encoder, projector] trainable flags of each modality and the LLM's flag. */
  trainModes(): { encodersMode: EncoderModes; llmMode: boolean } {
    return { encodersMode: structuredClone(this.encoderModes), llmMode: this.llmMode };
  }

  /**
   * Runs the frozen leading part of each encoder path outside any gradient tape: the encoder when
   * it is frozen, and the projector too when both are. The caller disposes the result.
   */
  precomputeFrozenFeatures(batch: MultimodalBatch): PrecomputedFeatures {
    const precomputed: PrecomputedFeatures = {};
    for (const [modality, entry] of Object.entries(batch.encoderInputs ?? {})) {
      const encoder = this.encoderFor(modality);
      const [encoderTrainable, projectorTrainable] = this.encoderModes[modality];
      if (encoderTrainable || !this.hasMainInput(encoder, entry.inputs)) continue;
      const encoded = tf.tidy(() => encoder.encode(entry.inputs));
      if (projectorTrainable) {
        precomputed[modality] = { encoded };
      } else {
        precomputed[modality] = { projected: tf.tidy(() => encoder.project(entry.inputs, encoded)) };
        encoded.dispose();
      }
    }
    return precomputed;
  }

  /**
   * Steps 1 to 3 of `forward`: encode each modality present in the batch, embed the text with
   * modality ids masked to 0, and inject the features at the placeholders (multiplied by the
   * LLM's embeddingScale when `scaleInjectedFeatures` is set). Returns inputs_embeds, float32
   * [B, T, C]; the caller disposes it.
   */
  embedInputs(batch: MultimodalBatch, options: Pick<ForwardOptions, "precomputed"> = {}): tf.Tensor {
    if (batch.input_ids.rank !== 2) throw new ShapeError(`input_ids is [${batch.input_ids.shape}] but must be [batch, sequence]`);
    return tf.tidy(() => {
      const features = this.encodeModalities(batch, options.precomputed ?? {});

      const inputIds = batch.input_ids.dataSync() as Int32Array;
      this.checkModalitiesWithoutInputs(inputIds, batch.input_ids.shape[1]!, features);
      const maskedIds = tf.tensor(maskModalityIds(inputIds, Object.values(this.modalityTokenIds)), batch.input_ids.shape, "int32");
      const textEmbeds = this.languageModel.embedTokens(maskedIds); // [B, T, C]

      return injectFeatures(textEmbeds, inputIds, features);
    });
  }

  /**
   * 1. encode each modality present in the batch, 2. embed the text with modality ids masked to 0,
   * 3. inject the features at the placeholders, 4. run the LLM (with loss when labels are given,
   * -100 at the placeholders). attention_mask goes to the LLM as given.
   */
  forward(batch: MultimodalBatch, options: ForwardOptions = {}): LanguageModelOutput {
    return tf.tidy(() => {
      const inputsEmbeds = this.embedInputs(batch, options);

      const inputIds = batch.input_ids.dataSync() as Int32Array;
      const labels = batch.labels === undefined ? undefined : ignoreModalityLabels(batch.labels, inputIds, Object.values(this.modalityTokenIds));
      const output = this.languageModel.forward({
        inputs_embeds: inputsEmbeds,
        attention_mask: batch.attention_mask,
        labels,
        lossNormalizer: options.lossNormalizer,
        logitsForLossOnly: options.logitsForLossOnly,
      });
      return output as unknown as tf.TensorContainerObject;
    }) as unknown as LanguageModelOutput;
  }

  /**
   * Loss and gradients of the trainable parameters for one (micro-)batch. Frozen encoders run
   * before the gradient tape so their activations are not kept.
   */
  computeGradients(batch: MultimodalBatch, options: { lossNormalizer?: number } = {}): { loss: tf.Scalar; grads: tf.NamedTensorMap } {
    const trainable = this.namedParameters().filter(([, variable]) => variable.trainable);
    if (trainable.length === 0) throw new ConfigError("no trainable parameters: every part of the model is frozen; check the freeze settings", "freeze");
    const precomputed = this.precomputeFrozenFeatures(batch);
    try {
      const { value, grads } = tf.variableGrads(() => {
        const { loss, logits } = this.forward(batch, { precomputed, lossNormalizer: options.lossNormalizer, logitsForLossOnly: true });
        logits.dispose();
        if (loss === undefined) throw new ConfigError("the batch has no labels; training needs labels", "labels");
        return loss as tf.Scalar;
      }, trainable.map(([, variable]) => variable));
      const byPath = new Map(trainable.map(([path, variable]) => [variable.name, path]));
      const named: tf.NamedTensorMap = {};
      for (const [variableName, gradient] of Object.entries(grads)) named[byPath.get(variableName)!] = gradient;
      return { loss: value, grads: named };
    } finally {
      for (const entry of Object.values(precomputed)) tf.dispose([entry.encoded, entry.projected].filter((t): t is tf.Tensor => t !== undefined));
    }
  }

  private encoderFor(modality: string): ModalEncoderModule {
    const encoder = this.encoders[modality];
    if (encoder === undefined) {
      throw new ConfigError(`the batch has inputs for modality "${modality}" but the model has no such encoder; it has ${this.modalities.join(", ")}`, modality);
    }
    return encoder;
  }

  private hasMainInput(encoder: ModalEncoderModule, inputs: EncoderInputs): boolean {
    return inputs[encoder.mainInputName] !== undefined;
  }

  private encodeModalities(batch: MultimodalBatch, precomputed: PrecomputedFeatures): ModalityFeatures[] {
    const features: ModalityFeatures[] = [];
    for (const [modality, entry] of Object.entries(batch.encoderInputs ?? {})) {
      const encoder = this.encoderFor(modality);
      if (!this.hasMainInput(encoder, entry.inputs)) continue; // skipped for this batch
      const tokenId = this.modalityTokenIds[modality];
      if (tokenId === undefined) {
        throw new ConfigError(`${modality}: no modality token id is set; call model.setModalityTokenIds (the MultimodalProcessor does this)`, modality);
      }
      const projected = this.projectedFeatures(modality, encoder, entry.inputs, precomputed[modality] ?? {}); // [K, N, C]
      const [inputs, rowsPerInput, hidden] = projected.shape;
      if (entry.inputsPerSample.reduce((a, b) => a + b, 0) !== inputs) {
        throw new ShapeError(`${modality}: the batch has ${inputs} inputs but inputsPerSample [${entry.inputsPerSample}] adds up to a different number`);
      }
      features.push({
        modality,
        tokenId,
        features: this.scaleFeatures(projected.reshape([inputs * rowsPerInput, hidden])), // [K·N, C]
        rowsPerSample: entry.inputsPerSample.map((count) => count * rowsPerInput),
      });
    }
    return features;
  }

  /** Runs what `precomputed` lacks of the encoder path and checks the row count per input. */
  private projectedFeatures(modality: string, encoder: ModalEncoderModule, inputs: EncoderInputs, ready: PrecomputedFeatures[string]): tf.Tensor {
    const projected = ready.projected ?? encoder.project(inputs, ready.encoded ?? encoder.encode(inputs)); // [K, N, C]
    const expected = encoder.featuresPerInput;
    if (expected !== undefined && projected.shape[1] !== expected) {
      throw new ShapeError(
        `${modality}: the encoder module produced ${projected.shape[1]} feature rows per input but its featuresPerInput is ${expected}; ` +
          `set the ModalEncoderModule's featuresPerInput to the row count its callbacks produce`,
      );
    }
    return projected;
  }

  private scaleFeatures(features: tf.Tensor): tf.Tensor {
    const scale = this.scaleInjectedFeatures ? (this.languageModel.embeddingScale ?? 1) : 1;
    return scale === 1 ? features : tf.mul(features, scale);
  }

  /**
   * Throws a ModalityMismatchError when the ids contain placeholders of a modality that has no
   * inputs in this batch, because the masked ids would otherwise embed them as token 0.
   */
  private checkModalitiesWithoutInputs(inputIds: Int32Array, length: number, features: ModalityFeatures[]): void {
    const injected = new Set(features.map((entry) => entry.modality));
    for (const [modality, tokenId] of Object.entries(this.modalityTokenIds)) {
      if (injected.has(modality)) continue;
      const position = inputIds.indexOf(tokenId);
      if (position < 0) continue;
      const sample = Math.floor(position / length);
      const row = inputIds.subarray(sample * length, (sample + 1) * length);
      const placeholders = row.reduce((count, id) => count + (id === tokenId ? 1 : 0), 0);
      throw new ModalityMismatchError(modality, sample, placeholders, 0);
    }
  }
}

/** Copies labels with -100 at every modality placeholder position. */
function ignoreModalityLabels(labels: tf.Tensor, inputIds: Int32Array, tokenIds: number[]): Int32Array {
  const values = Int32Array.from(labels.dataSync());
  for (let i = 0; i < values.length; i++) if (tokenIds.includes(inputIds[i])) values[i] = IGNORE_INDEX;
  return values;
}
