// Shape letters: B batch, T sequence, C hidden, V vocabulary.
import * as tf from "@tensorflow/tfjs";
import {
  InputError,
  Linear,
  Module,
  ShapeError,
  causalLmLoss,
  linear,
  type CausalLanguageModel,
  type LanguageModelInputs,
  type LanguageModelOutput,
} from "@mm/core";
import type { PretrainedModel } from "../../pretrained/pretrained-model";
import type { AttentionContext } from "./attention";
import { attentionBias } from "./attention-mask";
import { DecoderModel } from "./decoder-model";
import type { DecoderConfig, DecoderSettings } from "./decoder-settings";
import { inverseFrequencies, rotaryTables } from "./rotary-embedding";

export interface DecoderForwardOptions {
  /** Also return transformers' hidden_states (see DecoderModel.forward). */
  outputHiddenStates?: boolean;
}

export interface DecoderOutput extends LanguageModelOutput {
  /** numHiddenLayers + 1 tensors [B, T, C]: embeddings, each layer's output but the last, final norm. */
  hidden_states?: tf.Tensor[];
}

/**
 * A Llama-style decoder-only language model with its LM head (transformers' LlamaForCausalLM and
 * the families that share its code). Parameter paths are transformers' tensor names:
 * `model.embed_tokens.weight`, `model.layers.0.self_attn.q_proj.weight`, ..., `model.norm.weight`,
 * `lm_head.weight` (absent when tie_word_embeddings is true: the head then multiplies by
 * `model.embed_tokens.weight`).
 *
 * `inputs_embeds` must already include the family's embedding scale, as `embedTokens` returns
 * them, so `forward({ input_ids })` equals `forward({ inputs_embeds: embedTokens(input_ids) })`.
 * transformers' Gemma instead scales `inputs_embeds` inside its forward pass. A LLaVA-style model
 * merges image features before that, so transformers scales the features too. To reproduce that
 * here, multiply injected features by `embeddingScale`.
 */
export class DecoderForCausalLM extends Module implements CausalLanguageModel, PretrainedModel {
  readonly modelType: string;
  readonly settings: DecoderSettings;
  readonly model: DecoderModel;
  /** undefined when the head is tied to the input embeddings. */
  readonly lmHead: Linear | undefined;
  private readonly config: DecoderConfig;
  private readonly frequencies: Float32Array;

  /** `config` is the parsed `config.json` (kept for saving); `settings` its resolved reading. */
  constructor(config: DecoderConfig, settings: DecoderSettings, source = "config.json") {
    super();
    this.config = structuredClone(config);
    this.settings = settings;
    this.modelType = settings.modelType;
    this.model = this.addModule("model", new DecoderModel(settings, source));
    const { hiddenSize, vocabSize, initializerRange } = settings;
    this.lmHead = settings.tieWordEmbeddings
      ? undefined
      : this.addModule("lm_head", new Linear(hiddenSize, vocabSize, { bias: false, initStd: initializerRange }));
    this.frequencies = inverseFrequencies(settings.headDim, settings.ropeTheta, settings.ropeScaling);
  }

  get hiddenSize(): number {
    return this.settings.hiddenSize;
  }

  get vocabSize(): number {
    return this.settings.vocabSize;
  }

  /** The factor embedTokens applies: sqrt(hidden_size) rounded to float32 for Gemma, else 1. */
  get embeddingScale(): number {
    return this.settings.embeddingScale;
  }

  /** input_ids: int32 [B, T] -> float32 [B, T, C], scaled by embeddingScale. */
  embedTokens(inputIds: tf.Tensor): tf.Tensor {
    return this.model.embed(inputIds);
  }

  /**
   * Computes logits for every position, and the mean next-token cross-entropy when labels are
   * given. Labels of -100 mark positions without loss, and the shift to next-token targets happens
   * inside. Pass exactly one of input_ids (int32 [B, T]) and inputs_embeds (float32 [B, T, C]).
   * attention_mask: [B, T], 1 to attend and 0 for padding. position_ids: [B, T] or [1, T]. When
   * absent they are 0..T-1 for every row, whatever the padding, as in transformers 4.40.
   * Returns logits float32 [B, T, V], loss (a float32 scalar) and, with `outputHiddenStates`,
   * hidden_states. The caller disposes them.
   */
  forward(inputs: LanguageModelInputs, options: DecoderForwardOptions = {}): DecoderOutput {
    return tf.tidy(() => {
      const embeds = this.inputEmbeddings(inputs); // [B, T, C]
      const [batch, length] = embeds.shape;
      const contexts = this.attentionContexts(inputs, batch, length);

      const { lastHiddenState, hiddenStates } = this.model.forward(embeds, contexts, options.outputHiddenStates);
      const logits = this.lmHead?.forward(lastHiddenState) ?? linear(lastHiddenState, this.model.embedTokens.weight); // [B, T, V]

      const output: DecoderOutput = { logits };
      if (inputs.labels !== undefined) output.loss = causalLmLoss(logits, inputs.labels, { normalizer: inputs.lossNormalizer });
      if (hiddenStates !== undefined) output.hidden_states = hiddenStates;
      return output as unknown as tf.TensorContainerObject;
    }) as unknown as DecoderOutput;
  }

  /** Returns ["lm_head.weight"] when the head is tied to the input embeddings, else []. */
  tiedParameterNames(): string[] {
    return this.settings.tieWordEmbeddings ? ["lm_head.weight"] : [];
  }

  /**
   * Checkpoint tensors that are not parameters here: rotary inverse frequencies that some older
   * Llama checkpoints store, and a tied lm_head.weight (transformers also ties it after loading,
   * so embed_tokens wins).
   */
  ignoredCheckpointNames(): RegExp[] {
    const ignored = [/\.rotary_emb\.inv_freq$/];
    if (this.settings.tieWordEmbeddings) ignored.push(/^lm_head\.weight$/);
    return ignored;
  }

  toConfigJson(): Record<string, unknown> {
    return structuredClone(this.config);
  }

  private inputEmbeddings({ input_ids: inputIds, inputs_embeds: inputsEmbeds }: LanguageModelInputs): tf.Tensor {
    if ((inputIds === undefined) === (inputsEmbeds === undefined)) {
      const received = inputIds === undefined ? "neither" : "both";
      throw new InputError(`${this.modelType}: pass exactly one of input_ids and inputs_embeds, got ${received}`);
    }
    if (inputIds !== undefined) {
      if (inputIds.rank !== 2) throw new ShapeError(`input_ids is [${inputIds.shape}] but must be [batch, sequence]`);
      return this.embedTokens(inputIds);
    }
    if (inputsEmbeds!.rank !== 3 || inputsEmbeds!.shape[2] !== this.hiddenSize) {
      throw new ShapeError(`inputs_embeds is [${inputsEmbeds!.shape}] but must be [batch, sequence, ${this.hiddenSize}]`);
    }
    return inputsEmbeds!;
  }

  /** Rotary tables and masks for each layer; layers with the same sliding window share a mask. */
  private attentionContexts(inputs: LanguageModelInputs, batch: number, length: number): AttentionContext[] {
    const { cos, sin } = this.rotaryFor(inputs.position_ids, batch, length);
    const biases = new Map<number | undefined, tf.Tensor>();
    return this.settings.slidingWindows.map((window) => {
      let bias = biases.get(window);
      if (bias === undefined) {
        bias = attentionBias(inputs.attention_mask, batch, length, window);
        biases.set(window, bias);
      }
      return { cos, sin, bias };
    });
  }

  private rotaryFor(positionIds: tf.Tensor | undefined, batch: number, length: number): { cos: tf.Tensor; sin: tf.Tensor } {
    const { ropeScaling } = this.settings;
    if (positionIds === undefined) {
      const positions = Int32Array.from({ length }, (_, t) => t);
      return rotaryTables(positions, 1, length, this.frequencies, ropeScaling);
    }
    const rows = positionIds.rank === 2 ? positionIds.shape[0] : 1;
    const fits = positionIds.shape[positionIds.rank - 1] === length && positionIds.rank <= 2 && (rows === 1 || rows === batch);
    if (!fits) {
      throw new ShapeError(`position_ids is [${positionIds.shape}] but the inputs are [${batch}, ${length}]; pass [${batch}, ${length}] or [1, ${length}]`);
    }
    return rotaryTables(positionIds.dataSync(), rows, length, this.frequencies, ropeScaling);
  }
}
