import * as tf from "@tensorflow/tfjs";
import { causalLmLoss } from "../ops/cross-entropy";
import { Embedding } from "../nn/embedding";
import { Linear } from "../nn/linear";
import { Module } from "../nn/module";
import type { CausalLanguageModel, EncoderOutput, LanguageModelInputs, LanguageModelOutput, ModalityEncoder } from "../multimodal/contracts";

/**
 * A one-layer encoder for tests: [K, N, inputSize] -> [K, N, hiddenSize]. `numFeatures` is what it
 * reports to the processor; it does not change the output.
 */
export class ToyEncoder extends Module implements ModalityEncoder {
  readonly proj: Linear;

  constructor(
    inputSize: number,
    readonly hiddenSize: number,
    readonly mainInputName = "pixel_values",
    readonly numFeatures?: number,
  ) {
    super();
    this.proj = this.addModule("proj", new Linear(inputSize, hiddenSize));
  }

  forward(inputs: Record<string, tf.Tensor>): EncoderOutput {
    return { last_hidden_state: tf.tidy(() => tf.tanh(this.proj.forward(inputs[this.mainInputName]))) };
  }
}

/** Embedding, one hidden layer and an LM head, for tests of the multimodal plumbing. */
export class ToyLanguageModel extends Module implements CausalLanguageModel {
  readonly embed_tokens: Embedding;
  readonly layer: Linear;
  readonly lm_head: Linear;

  constructor(
    readonly vocabSize: number,
    readonly hiddenSize: number,
  ) {
    super();
    this.embed_tokens = this.addModule("embed_tokens", new Embedding(vocabSize, hiddenSize));
    this.layer = this.addModule("layer", new Linear(hiddenSize, hiddenSize));
    this.lm_head = this.addModule("lm_head", new Linear(hiddenSize, vocabSize, { bias: false }));
  }

  embedTokens(inputIds: tf.Tensor): tf.Tensor {
    return this.embed_tokens.forward(inputIds);
  }

  forward(inputs: LanguageModelInputs): LanguageModelOutput {
    return tf.tidy(() => {
      const embeds = inputs.inputs_embeds ?? this.embedTokens(inputs.input_ids!);
      const logits = this.lm_head.forward(tf.tanh(this.layer.forward(embeds)));
      if (inputs.labels === undefined) return { logits };
      return { logits, loss: causalLmLoss(logits, inputs.labels, { normalizer: inputs.lossNormalizer }) };
    }) as LanguageModelOutput;
  }
}
