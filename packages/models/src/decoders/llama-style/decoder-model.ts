// Shape letters: B batch, T sequence, C hidden, V vocabulary.
import * as tf from "@tensorflow/tfjs";
import { Embedding, Module, ModuleList, RMSNorm, ShapeError } from "@mm/core";
import type { AttentionContext } from "./attention";
import { DecoderLayer } from "./decoder-layer";
import type { DecoderSettings } from "./decoder-settings";

/**
 * The decoder stack under `model.` (transformers' LlamaModel): embed_tokens, layers.N, norm.
 */
export class DecoderModel extends Module {
  readonly embedTokens: Embedding;
  readonly layers: ModuleList<DecoderLayer>;
  readonly norm: RMSNorm;

  constructor(
    private readonly settings: DecoderSettings,
    source: string,
  ) {
    super();
    const { vocabSize, hiddenSize, numHiddenLayers, rmsNormEps, normUnitOffset, initializerRange } = settings;
    this.embedTokens = this.addModule("embed_tokens", new Embedding(vocabSize, hiddenSize, { initStd: initializerRange }));
    zeroPaddingRow(this.embedTokens, settings.paddingIdx);
    const layers = Array.from({ length: numHiddenLayers }, () => new DecoderLayer(settings, source));
    this.layers = this.addModule("layers", new ModuleList(layers));
    this.norm = this.addModule("norm", new RMSNorm(hiddenSize, rmsNormEps, normUnitOffset));
  }

  /**
   * Looks up token embeddings and multiplies them by the family's embedding scale. The row of the
   * padding id receives no gradient from this lookup, as with nn.Embedding's padding_idx.
   * inputIds: int32 [B, T] with values in [0, V). Returns float32 [B, T, C].
   */
  embed(inputIds: tf.Tensor): tf.Tensor {
    const ids = inputIds.dataSync();
    const { vocabSize, paddingIdx, embeddingScale } = this.settings;
    const outside = ids.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize);
    if (outside >= 0) {
      throw new ShapeError(
        `input_ids contains ${ids[outside]} at flattened position ${outside}, which is outside the vocabulary of ${vocabSize} tokens; ` +
          "check that the tokenizer belongs to this model",
      );
    }
    return tf.tidy(() => {
      let embeds = this.embedTokens.forward(inputIds); // [B, T, C]
      if (paddingIdx !== undefined && ids.includes(paddingIdx)) {
        embeds = withoutRowGradients(embeds, Float32Array.from(ids, (id) => (id === paddingIdx ? 0 : 1)));
      }
      return embeddingScale === 1 ? embeds : tf.mul(embeds, embeddingScale);
    });
  }

  /**
   * Runs every layer, then the final norm. With `outputHiddenStates`, also returns transformers'
   * hidden_states: the input embeddings, the output of each layer but the last, and the final
   * normed output (numHiddenLayers + 1 tensors, each [B, T, C]).
   * inputsEmbeds: [B, T, C]; contexts: one per layer.
   */
  forward(
    inputsEmbeds: tf.Tensor,
    contexts: AttentionContext[],
    outputHiddenStates = false,
  ): { lastHiddenState: tf.Tensor; hiddenStates?: tf.Tensor[] } {
    return tf.tidy(() => {
      // The clone keeps a caller's inputs_embeds out of the returned tensors, which callers dispose.
      const hiddenStates = outputHiddenStates ? [inputsEmbeds.clone()] : undefined;
      let hidden = inputsEmbeds;
      this.layers.items.forEach((layer, i) => {
        if (i > 0) hiddenStates?.push(hidden);
        hidden = layer.forward(hidden, contexts[i]);
      });
      const lastHiddenState = this.norm.forward(hidden);
      hiddenStates?.push(lastHiddenState);
      return hiddenStates === undefined ? { lastHiddenState } : { lastHiddenState, hiddenStates };
    }) as { lastHiddenState: tf.Tensor; hiddenStates?: tf.Tensor[] };
  }
}

/** Sets the padding id's embedding row to 0, as nn.Embedding initialises it. */
function zeroPaddingRow(embedding: Embedding, paddingIdx: number | undefined): void {
  if (paddingIdx === undefined) return;
  tf.tidy(() => {
    const keep = tf.oneHot([paddingIdx], embedding.numEmbeddings).reshape([-1, 1]); // [V, 1]
    embedding.weight.assign(tf.mul(embedding.weight, tf.sub(1, keep)));
  });
}

/**
 * Passes x through unchanged but zeroes its gradient at the positions where `keep` is 0.
 * x: [B, T, C]; keep: B·T values of 0 or 1, row-major.
 */
function withoutRowGradients(x: tf.Tensor, keep: Float32Array): tf.Tensor {
  const [batch, length] = x.shape;
  const op = tf.customGrad((...inputs) => ({
    value: tf.clone(inputs[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.tidy(() => tf.mul(dy, tf.tensor3d(keep, [batch, length, 1]))),
  }));
  return op(x);
}
