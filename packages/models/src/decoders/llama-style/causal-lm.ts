// Shape letters: B batch, T sequence, P cached tokens, C hidden, V vocabulary.
import * as tf from "@tensorflow/tfjs";
import {
  InputError,
  Linear,
  Module,
  ShapeError,
  causalLmLoss,
  causalLmLossAtTrainedPositions,
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
import { KeyValueCache } from "./kv-cache";
import { positionIdsFromMask } from "./position-ids";
import { inverseFrequencies, rotaryTables } from "./rotary-embedding";

export interface DecoderForwardOptions {
  /** Also return transformers' hidden_states (see DecoderModel.forward). */
  outputHiddenStates?: boolean;
  /**
   * Keys and values of the P tokens of earlier passes, from `createCache()`. The inputs then hold
   * only the new tokens, attention_mask (when given) covers the cached and the new tokens, and
   * this pass appends its own keys and values to the cache.
   */
  cache?: KeyValueCache;
  /**
   * Computes logits for only the last N positions, [B, N, V], as transformers' num_logits_to_keep
   * does. Generation needs only the last one. Absent or 0: every position. Not allowed with labels.
   */
  logitsToKeep?: number;
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

  /** Creates an empty key/value cache with one slot per layer; the caller disposes it. */
  createCache(): KeyValueCache {
    return new KeyValueCache(this.settings.numHiddenLayers);
  }

  /**
   * Computes logits for every position, and the mean next-token cross-entropy when labels are
   * given. Labels of -100 mark positions without loss, and the shift to next-token targets happens
   * inside. Pass exactly one of input_ids (int32 [B, T]) and inputs_embeds (float32 [B, T, C]).
   * attention_mask: [B, T], 1 to attend and 0 for padding. position_ids: [B, T] or [1, T]. When
   * absent they are 0..T-1 for every row, whatever the padding, as in transformers 4.40's forward.
   *
   * With `options.cache` containing P tokens, attention_mask is [B, P + T] and the new tokens
   * attend the cached ones. Absent position_ids then follow transformers 4.40's generate():
   * P..P+T-1 without attention_mask, and with it cumsum(attention_mask) - 1 (see
   * positionIdsFromMask), so left-padded rows count from their first real token. For a padded
   * batch, a first pass with an empty cache therefore uses other positions than a pass without a
   * cache. Rotary attention depends only on position differences, so real tokens' logits differ
   * only by rounding.
   *
   * Returns logits float32 [B, T, V] ([B, N, V] with `logitsToKeep` N), loss (a float32 scalar)
   * and, with `outputHiddenStates`, hidden_states. The caller disposes them.
   */
  forward(inputs: LanguageModelInputs, options: DecoderForwardOptions = {}): DecoderOutput {
    if (options.logitsToKeep && inputs.labels !== undefined) {
      throw new InputError(`${this.modelType}: logitsToKeep (${options.logitsToKeep}) cannot be combined with labels, because the loss needs every position's logits`);
    }
    return tf.tidy(() => {
      const embeds = this.inputEmbeddings(inputs); // [B, T, C]
      const [batch, length] = embeds.shape;
      const contexts = this.attentionContexts(inputs, batch, length, options.cache);

      const { lastHiddenState, hiddenStates } = this.model.forward(embeds, contexts, options.outputHiddenStates);
      const head = (rows: tf.Tensor) => this.lmHead?.forward(rows) ?? linear(rows, this.model.embedTokens.weight); // [..., C] -> [..., V]
      let output: DecoderOutput;
      if (inputs.labels !== undefined && inputs.logitsForLossOnly) {
        output = causalLmLossAtTrainedPositions(lastHiddenState, inputs.labels, head, { normalizer: inputs.lossNormalizer });
      } else {
        const keep = options.logitsToKeep;
        const headInput = keep ? tf.slice(lastHiddenState, [0, Math.max(0, length - keep), 0], [-1, -1, -1]) : lastHiddenState; // [B, N, C]
        output = { logits: head(headInput) }; // [B, N, V]
        if (inputs.labels !== undefined) output.loss = causalLmLoss(output.logits, inputs.labels, { normalizer: inputs.lossNormalizer });
      }
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

  /**
   * Rotary tables, masks and cache slots for each layer; layers with the same sliding window share
   * a mask. The masks are built first because they check attention_mask's shape.
   */
  private attentionContexts(inputs: LanguageModelInputs, batch: number, length: number, cache: KeyValueCache | undefined): AttentionContext[] {
    const pastLength = this.checkCache(cache, batch);
    const biases = new Map<number | undefined, tf.Tensor>();
    for (const window of this.settings.slidingWindows) {
      if (!biases.has(window)) biases.set(window, attentionBias(inputs.attention_mask, batch, length, window, pastLength));
    }
    const { cos, sin } = this.rotaryFor(inputs, batch, length, cache === undefined ? undefined : pastLength);
    return this.settings.slidingWindows.map((window, i) => ({ cos, sin, bias: biases.get(window)!, cache: cache?.layers[i] }));
  }

  /** Returns the cache's length P after checking that it fits this model and batch (0 without a cache). */
  private checkCache(cache: KeyValueCache | undefined, batch: number): number {
    if (cache === undefined) return 0;
    const layers = this.settings.numHiddenLayers;
    if (cache.layers.length !== layers) {
      throw new ShapeError(`the cache has ${cache.layers.length} layers but this ${this.modelType} model has ${layers}; create it with createCache()`);
    }
    if (cache.batchSize !== undefined && cache.batchSize !== batch) {
      throw new ShapeError(`the cache contains ${cache.batchSize} rows but the inputs have ${batch}; use a new cache for each batch of prompts`);
    }
    return cache.length;
  }

  /** pastLength is undefined without a cache, else the cache's length P. */
  private rotaryFor(inputs: LanguageModelInputs, batch: number, length: number, pastLength: number | undefined): { cos: tf.Tensor; sin: tf.Tensor } {
    const { ropeScaling } = this.settings;
    const { position_ids: positionIds, attention_mask: attentionMask } = inputs;
    if (positionIds === undefined && pastLength !== undefined && attentionMask !== undefined) {
      return rotaryTables(positionIdsFromMask(attentionMask, length), batch, length, this.frequencies, ropeScaling);
    }
    if (positionIds === undefined) {
      const positions = Int32Array.from({ length }, (_, t) => (pastLength ?? 0) + t);
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
