import * as tf from "@tensorflow/tfjs";
import { ConfigError, type MultimodalBatch, type MultimodalModel } from "@mm/core";
import type { Tokenizer } from "../tokenizer/tokenizer";
import { buildBatch, type TextSample } from "../text/build-batch";
import { tokenizeConversation, type ConversationTurn } from "../text/conversation";
import { expandSample } from "../text/expand-modality-tokens";
import type { EncoderProcessor } from "./encoder-processor";

/** Feature rows the encoder outputs for the k-th input of a modality in a batch. */
export type NumFeatureFn = (input: unknown, index: number) => number;

export interface MultimodalProcessorOptions {
  encoderProcessors: Record<string, EncoderProcessor>;
  tokenizer: Tokenizer;
  /** The model whose modality token ids are set and whose encoders give the default feature counts. */
  model?: MultimodalModel;
  /**
   * Per-modality feature counts; default: the encoder module's `featuresPerInput` (the encoder's
   * fixed `numFeatures` unless the module's callbacks change the count, as LLaVA's do).
   */
  numFeatureFns?: Record<string, NumFeatureFn>;
  /** Modality tokens in the text; default `<modality>` (e.g. `<vision>`). */
  predefinedTokens?: Record<string, string>;
}

/** One training sample: a conversation and its inputs per modality, in order of appearance. */
export interface ConversationSample {
  conversations: ConversationTurn[];
  inputs: Record<string, unknown[]>;
}

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

  constructor(options: MultimodalProcessorOptions) {
    this.tokenizer = options.tokenizer;
    this.encoderProcessors = options.encoderProcessors;
    const modalities = Object.keys(options.encoderProcessors);
    const tokens = Object.fromEntries(modalities.map((m) => [m, options.predefinedTokens?.[m]]));
    this.modalityTokenIds = options.tokenizer.addModalityTokens(tokens);
    options.model?.setModalityTokenIds(this.modalityTokenIds);
    this.numFeatureFns = Object.fromEntries(modalities.map((m) => [m, options.numFeatureFns?.[m] ?? defaultFeatureCount(m, options.model)]));
  }

  /**
   * Processes conversations (training samples): only assistant turns are trained on; prompts,
   * padding and placeholders get label -100.
   */
  async processConversations(samples: ConversationSample[], options: { maxLength?: number } = {}): Promise<MultimodalBatch> {
    const textSamples = samples.map((sample, index) => {
      const tokenized = tokenizeConversation(this.tokenizer, sample.conversations);
      return this.expand(tokenized, sample.inputs, index);
    });
    return this.assemble(textSamples, samples.map((s) => s.inputs), options.maxLength);
  }

  /** Processes plain prompts (no labels), e.g. for generation. */
  async call(request: { text: string[]; inputs?: Record<string, unknown[]>[]; maxLength?: number }): Promise<MultimodalBatch> {
    const inputs = request.inputs ?? request.text.map(() => ({}));
    const textSamples = request.text.map((text, index) => this.expand({ input_ids: this.tokenizer.encode(text) }, inputs[index] ?? {}, index));
    return this.assemble(textSamples, inputs, request.maxLength);
  }

  private expand(sample: TextSample, inputs: Record<string, unknown[]>, sampleIndex: number): TextSample {
    const counts = Object.fromEntries(
      Object.keys(this.encoderProcessors).map((m) => [m, (inputs[m] ?? []).map((input, k) => this.numFeatureFns[m](input, k))]),
    );
    return expandSample(sample, this.modalityTokenIds, counts, sampleIndex);
  }

  private async assemble(textSamples: TextSample[], inputs: Record<string, unknown[]>[], maxLength?: number): Promise<MultimodalBatch> {
    const text = buildBatch(textSamples, {
      padTokenId: this.tokenizer.padTokenId ?? 0,
      paddingSide: this.tokenizer.paddingSide,
      maxLength,
      modalityTokenIds: this.modalityTokenIds,
    });
    const encoderInputs: NonNullable<MultimodalBatch["encoderInputs"]> = {};
    for (const [modality, processor] of Object.entries(this.encoderProcessors)) {
      const items = inputs.flatMap((sampleInputs) => sampleInputs[modality] ?? []);
      if (items.length === 0) continue;
      const processed = await processor.process(items);
      encoderInputs[modality] = {
        inputs: { [processor.outputKey]: tf.tensor(processed.values, processed.shape, "float32") },
        inputsPerSample: inputs.map((sampleInputs) => (sampleInputs[modality] ?? []).length),
      };
    }
    return {
      input_ids: tf.tensor2d(text.input_ids, text.shape, "int32"),
      attention_mask: tf.tensor2d(text.attention_mask, text.shape, "int32"),
      labels: tf.tensor2d(text.labels, text.shape, "int32"),
      encoderInputs,
    };
  }
}

function defaultFeatureCount(modality: string, model: MultimodalModel | undefined): NumFeatureFn {
  const count = model?.encoders[modality]?.featuresPerInput;
  return () => {
    if (count === undefined) {
      throw new ConfigError(
        `${modality}: the number of features per input is unknown; pass a model whose ${modality} encoder module has a fixed featuresPerInput, or numFeatureFns.${modality}`,
        `numFeatureFns.${modality}`,
      );
    }
    return count;
  };
}
