// Modules with known outputs for the MultimodalModel tests, so a test can tell every row of the
// merged embeddings apart. Test-only: the package entry point does not import this file.
import * as tf from "@tensorflow/tfjs";
import { Linear } from "../nn/linear";
import { Module } from "../nn/module";
import { causalLmLoss } from "../ops/cross-entropy";
import type { CausalLanguageModel, EncoderOutput, LanguageModelInputs, LanguageModelOutput, ModalityEncoder } from "./contracts";
import type { ProjectorModule } from "./modal-encoder-module";

/**
 * An encoder whose last_hidden_state is its input [K, N, C] unchanged. With hidden states
 * requested it returns [input, input + 10], so a test can see which one a callback picked.
 */
export class IdentityEncoder extends Module implements ModalityEncoder {
  constructor(
    readonly hiddenSize: number,
    readonly mainInputName = "pixel_values",
    readonly numFeatures?: number,
  ) {
    super();
  }

  forward(inputs: Record<string, tf.Tensor>, options: { outputHiddenStates?: boolean } = {}): EncoderOutput {
    const input = inputs[this.mainInputName];
    if (!options.outputHiddenStates) return { last_hidden_state: input.clone() };
    return { last_hidden_state: input.clone(), hidden_states: [input.clone(), tf.add(input, 10)] };
  }
}

/** A projector that passes features through unchanged (outFeatures = inFeatures). */
export class IdentityProjector extends Module implements ProjectorModule {
  constructor(readonly inFeatures: number) {
    super();
  }

  get outFeatures(): number {
    return this.inFeatures;
  }

  forward(features: tf.Tensor): tf.Tensor {
    return features.clone();
  }
}

/** The inputs of RecordingLanguageModel's last forward call, as plain arrays. */
export interface RecordedInputs {
  /** [B, T, C] */
  inputsEmbeds: number[][][];
  attentionMask: number[][] | undefined;
  labels: number[] | undefined;
}

/**
 * A language model whose embedding of token id t is `embeddingScale` · t in every one of its
 * `hiddenSize` channels, and whose logits are a linear map of the embeddings. It records the
 * inputs of each forward call, and reads only `inputs_embeds`, never input_ids.
 */
export class RecordingLanguageModel extends Module implements CausalLanguageModel {
  readonly lm_head: Linear;
  recorded: RecordedInputs | undefined;

  constructor(
    readonly vocabSize: number,
    readonly hiddenSize: number,
    readonly embeddingScale?: number,
  ) {
    super();
    this.lm_head = this.addModule("lm_head", new Linear(hiddenSize, vocabSize, { bias: false }));
  }

  embedTokens(inputIds: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const ids = tf.mul(inputIds.cast("float32"), this.embeddingScale ?? 1).expandDims(-1); // [B, T, 1]
      return tf.tile(ids, [1, 1, this.hiddenSize]); // [B, T, C]
    });
  }

  forward(inputs: LanguageModelInputs): LanguageModelOutput {
    const embeds = inputs.inputs_embeds!; // the MultimodalModel always passes inputs_embeds
    this.recorded = {
      inputsEmbeds: embeds.arraySync() as number[][][],
      attentionMask: inputs.attention_mask?.arraySync() as number[][] | undefined,
      labels: inputs.labels === undefined ? undefined : Array.from(inputs.labels instanceof tf.Tensor ? inputs.labels.dataSync() : inputs.labels),
    };
    return tf.tidy(() => {
      const logits = this.lm_head.forward(embeds);
      if (inputs.labels === undefined) return { logits };
      return { logits, loss: causalLmLoss(logits, inputs.labels, { normalizer: inputs.lossNormalizer }) };
    }) as LanguageModelOutput;
  }
}
