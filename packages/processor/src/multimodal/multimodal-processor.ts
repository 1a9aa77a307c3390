import * as tf from "@tensorflow/tfjs";
import { InputError, type MultimodalBatch, type MultimodalModel } from "@mm/core";
import type { Tokenizer } from "../tokenizer/tokenizer";
import { buildBatch, type BatchOptions, type TextBatch, type TextSample } from "../text/build-batch";
import { tokenizeConversation, type ConversationTurn } from "../text/conversation";
import { expandSample, type ModalityFeatureCounts } from "../text/expand-modality-tokens";
import { padsToMaxLength, readModalityInputs, splitInputsPerSample, type ProcessorCallRequest } from "./call-inputs";
import type { ArrayTensor, EncoderFeatureConfig, EncoderProcessor } from "./encoder-processor";
import { resolveFeatureCount, type NumFeatureFn } from "./feature-counts";
import { checkModelTokenIds } from "./model-token-ids";

export type { NumFeatureFn } from "./feature-counts";

export interface MultimodalProcessorOptions {
  encoderProcessors: Record<string, EncoderProcessor>;
  tokenizer: Tokenizer;
  /** The model whose modality token ids are set and whose encoders give the default feature counts. */
  model?: MultimodalModel;
  /**
   * Per-modality feature counts. Default: the encoder module's `featuresPerInput` (the encoder's
   * fixed `numFeatures` unless the module's callbacks change the count, as LLaVA's do), else the
   * processor's count for `encoderConfigs`.
   */
  numFeatureFns?: Record<string, NumFeatureFn>;
  /**
   * Per-modality encoder config fields (`patch_size`, `max_source_positions`), for feature counts
   * without a model: CLIP and ViT (H/patch)·(W/patch) + 1, SigLIP (H/patch)·(W/patch), Whisper
   * max_source_positions. Recipes that drop rows (LLaVA drops CLIP's class token) need
   * numFeatureFns or the model instead.
   */
  encoderConfigs?: Record<string, EncoderFeatureConfig>;
  /** Modality tokens in the text; default `<modality>` (e.g. `<vision>`). */
  predefinedTokens?: Record<string, string>;
  /**
   * The model's config.json. Its `image_token_index` / `image_token_id` (for a processor with
   * inputKey "images") and `audio_token_index` / `audio_token_id` (inputKey "audio") must equal
   * the tokenizer's ids, or the constructor throws a ConfigError.
   */
  modelConfig?: Readonly<Record<string, unknown>>;
}

/** One training sample: a conversation and its inputs per modality, in order of appearance. */
export interface ConversationSample {
  conversations: ConversationTurn[];
  inputs: Record<string, unknown[]>;
}

/**
 * The output of {@link MultimodalProcessor.call}: a MultimodalBatch, plus each processor's output
 * under its outputKey (`pixel_values`, `input_features`) as transformers' processors return it.
 * Those flat keys are the same tensors as in `encoderInputs`, so dispose each tensor once. A flat
 * key is left out when two modalities share its outputKey, and when no input of it was given.
 */
export interface ProcessorOutput extends MultimodalBatch {
  /** int32 [B, T]. */
  input_ids: tf.Tensor;
  /** int32 [B, T]; 1 at tokens, 0 at padding. */
  attention_mask: tf.Tensor;
  encoderInputs: NonNullable<MultimodalBatch["encoderInputs"]>;
  /** float32 [K, 3, H, W]: the images of all samples in order. */
  pixel_values?: tf.Tensor;
  /** float32 [K, feature_size, frames]: the audio clips of all samples in order. */
  input_features?: tf.Tensor;
  [outputKey: string]: tf.Tensor | MultimodalBatch["encoderInputs"] | undefined;
}

/** Inputs of each sample, keyed by modality. */
type SampleInputs = Record<string, readonly unknown[]>;

/**
 * Turns text and raw modality inputs into a MultimodalBatch: registers one special token per
 * modality with the tokenizer (recording the ids on the model), expands each token into as many
 * placeholders as the encoder outputs features for that input, pads, and runs each modality's
 * processor.
 */
export class MultimodalProcessor {
  readonly tokenizer: Tokenizer;
  readonly modalityTokenIds: Record<string, number>;
  private readonly encoderProcessors: Record<string, EncoderProcessor>;
  private readonly numFeatureFns: Record<string, NumFeatureFn>;

  /**
   * @throws ConfigError when a token cannot be added, or its id differs from `modelConfig` or
   *   from an id already recorded on the model.
   */
  constructor(options: MultimodalProcessorOptions) {
    this.tokenizer = options.tokenizer;
    this.encoderProcessors = options.encoderProcessors;
    const modalities = Object.keys(options.encoderProcessors);
    const tokens = Object.fromEntries(modalities.map((m) => [m, options.predefinedTokens?.[m]]));
    this.modalityTokenIds = options.tokenizer.addModalityTokens(tokens);

    // NOTE: when a check below throws, the tokenizer keeps the modality tokens added above.
    for (const modality of modalities) {
      const registered = { modality, token: this.tokenizer.modalityTokens[modality], id: this.modalityTokenIds[modality] };
      checkModelTokenIds(registered, this.encoderProcessors[modality], options.modelConfig, options.model);
    }
    options.model?.setModalityTokenIds(this.modalityTokenIds);
    this.numFeatureFns = Object.fromEntries(modalities.map((m) => [m, resolveFeatureCount(m, this.encoderProcessors[m], options)]));
  }

  /**
   * Processes conversations (training samples): only assistant turns are trained on; prompts,
   * padding and placeholders get label -100. Rows are padded on the tokenizer's `paddingSide`
   * and, beyond maxLength, truncated on its `truncationSide`.
   */
  async processConversations(samples: ConversationSample[], options: { maxLength?: number } = {}): Promise<MultimodalBatch> {
    const inputs = samples.map((sample) => sample.inputs);
    const counts = this.featureCounts(inputs);
    const textSamples = samples.map((sample, index) =>
      expandSample(tokenizeConversation(this.tokenizer, sample.conversations), this.modalityTokenIds, counts[index], index),
    );
    const text = buildBatch(textSamples, this.batchOptions({ maxLength: options.maxLength }));
    const encoderInputs = await this.buildEncoderInputs(inputs);
    return { ...textTensors(text), labels: tf.tensor2d(text.labels, text.shape, "int32"), encoderInputs };
  }

  /**
   * Processes prompts for inference, in the form of transformers' processors: each modality token
   * in the text (e.g. `<image>`) becomes as many placeholders as the encoder outputs features for
   * its input, and the texts are padded into one batch. Inputs are matched to tokens in order.
   *
   * Every occurrence of a modality token's text is a placeholder, even in text that only mentions
   * it. Replace the token in such text before the call, for example
   * `text.replaceAll("<image>", "< image>")`.
   *
   * @example
   * const batch = await processor.call({
   *   encoderInputs: { vision: { images: ["cat.png", "dog.png"] } },
   *   llmInputs: { text: ["<image>\nWhat is it?", "<image>\nAnd this?"], paddingSide: "left" },
   * });
   * @returns input_ids and attention_mask int32 [B, T], the processors' outputs under their
   *   outputKey (`pixel_values` float32 [K, 3, H, W], `input_features`), and `encoderInputs` in the
   *   form MultimodalModel takes. The caller disposes the tensors.
   * @throws InputError when tokens and inputs do not match, an input cannot be processed, or
   *   truncation would cut placeholders.
   * @throws ConfigError on invalid padding options or an unknown feature count.
   */
  async call(request: ProcessorCallRequest): Promise<ProcessorOutput> {
    const { llmInputs } = request;
    const texts = typeof llmInputs.text === "string" ? [llmInputs.text] : llmInputs.text;
    checkTexts(texts);
    const padToMaxLength = padsToMaxLength(llmInputs);

    const encoded = texts.map((text) => this.tokenizer.encode(text, { addSpecialTokens: llmInputs.addSpecialTokens ?? true }));
    const inputs = this.splitCallInputs(request.encoderInputs ?? {}, encoded);
    const counts = this.featureCounts(inputs);
    const textSamples = encoded.map((ids, index) => expandSample({ input_ids: ids }, this.modalityTokenIds, counts[index], index));

    const text = buildBatch(textSamples, this.batchOptions({ ...llmInputs, padToMaxLength }));
    const encoderInputs = await this.buildEncoderInputs(inputs);
    return { ...textTensors(text), ...this.flatOutputs(encoderInputs), encoderInputs };
  }

  private batchOptions(options: Partial<BatchOptions>): BatchOptions {
    return {
      padTokenId: this.tokenizer.padTokenId ?? 0,
      paddingSide: options.paddingSide ?? this.tokenizer.paddingSide,
      truncationSide: options.truncationSide ?? this.tokenizer.truncationSide,
      maxLength: options.maxLength,
      padToMaxLength: options.padToMaxLength,
      modalityTokenIds: this.modalityTokenIds,
    };
  }

  /** Counts feature rows per input; `index` of a NumFeatureFn counts the modality's inputs across the batch. */
  private featureCounts(inputs: readonly SampleInputs[]): ModalityFeatureCounts[] {
    const nextIndex = new Map<string, number>();
    return inputs.map((sampleInputs) => {
      const counts: Record<string, number[]> = {};
      for (const modality of Object.keys(this.encoderProcessors)) {
        counts[modality] = (sampleInputs[modality] ?? []).map((input) => {
          const index = nextIndex.get(modality) ?? 0;
          nextIndex.set(modality, index + 1);
          return this.numFeatureFns[modality](input, index);
        });
      }
      return counts;
    });
  }

  private splitCallInputs(encoderInputs: NonNullable<ProcessorCallRequest["encoderInputs"]>, encoded: readonly number[][]): SampleInputs[] {
    const perSample: SampleInputs[] = encoded.map(() => ({}));
    for (const [modality, given] of Object.entries(encoderInputs)) {
      const processor = this.encoderProcessors[modality];
      if (processor === undefined) {
        const known = Object.keys(this.encoderProcessors).join(", ");
        throw new InputError(`encoderInputs has "${modality}" but this processor has no ${modality} encoder processor; known modalities: ${known}`);
      }
      const tokenId = this.modalityTokenIds[modality];
      const tokenCounts = encoded.map((ids) => ids.filter((id) => id === tokenId).length);
      const split = splitInputsPerSample(modality, processor.inputKey, readModalityInputs(modality, processor, given), tokenCounts);
      split.forEach((sampleInputs, index) => (perSample[index][modality] = sampleInputs));
    }
    return perSample;
  }

  /** Runs every processor before making any tensor, so that a failing input leaks none. */
  private async buildEncoderInputs(inputs: readonly SampleInputs[]): Promise<NonNullable<MultimodalBatch["encoderInputs"]>> {
    const processed: Array<[string, ArrayTensor, number[]]> = [];
    for (const [modality, processor] of Object.entries(this.encoderProcessors)) {
      const items = inputs.flatMap((sampleInputs) => sampleInputs[modality] ?? []);
      if (items.length === 0) continue;
      const inputsPerSample = inputs.map((sampleInputs) => (sampleInputs[modality] ?? []).length);
      processed.push([modality, await processor.process(items), inputsPerSample]);
    }

    const encoderInputs: NonNullable<MultimodalBatch["encoderInputs"]> = {};
    for (const [modality, { values, shape }, inputsPerSample] of processed) {
      const outputKey = this.encoderProcessors[modality].outputKey;
      encoderInputs[modality] = { inputs: { [outputKey]: tf.tensor(values, shape, "float32") }, inputsPerSample };
    }
    return encoderInputs;
  }

  private flatOutputs(encoderInputs: NonNullable<MultimodalBatch["encoderInputs"]>): Record<string, tf.Tensor> {
    const outputKeys = Object.values(this.encoderProcessors).map((processor) => processor.outputKey);
    const flat: Record<string, tf.Tensor> = {};
    for (const [modality, { inputs }] of Object.entries(encoderInputs)) {
      const outputKey = this.encoderProcessors[modality].outputKey;
      const shared = outputKeys.filter((key) => key === outputKey).length > 1;
      if (!shared) flat[outputKey] = inputs[outputKey];
    }
    return flat;
  }
}

function textTensors(text: TextBatch): { input_ids: tf.Tensor; attention_mask: tf.Tensor } {
  return {
    input_ids: tf.tensor2d(text.input_ids, text.shape, "int32"),
    attention_mask: tf.tensor2d(text.attention_mask, text.shape, "int32"),
  };
}

function checkTexts(texts: readonly unknown[]): void {
  if (!Array.isArray(texts) || texts.length === 0) {
    throw new InputError("llmInputs.text has no prompts; pass a string or a non-empty array of strings");
  }
  const invalid = texts.findIndex((text) => typeof text !== "string");
  if (invalid >= 0) {
    throw new InputError(`llmInputs.text[${invalid}] must be a string, found ${typeof texts[invalid]}`);
  }
}
