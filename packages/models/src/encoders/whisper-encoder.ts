import * as tf from "@tensorflow/tfjs";
import { ConfigError, Embedding, LayerNorm, Linear, Module, ModuleList, getActivation, type Activation, type EncoderOutput, type ModalityEncoder } from "@mm/core";
import { ConfigReader } from "../pretrained/config-fields";
import type { PretrainedModel } from "../pretrained/pretrained-model";
import { SelfAttention } from "./attention";
import { Conv1d } from "./conv1d";
import { checkShape, requireInput, tidyEncoderOutput } from "./encoder-inputs";

// Shape letters: B batch, F mel bins, L input frames, P positions (L / 2), C d_model, I encoder_ffn_dim.

/** The encoder fields of a Whisper `config.json`, spelled as in transformers. */
export interface WhisperEncoderConfig {
  d_model: number;
  encoder_layers: number;
  encoder_attention_heads: number;
  encoder_ffn_dim: number;
  num_mel_bins: number;
  max_source_positions: number;
  activation_function: string;
}

/** Reads the encoder fields, defaulting to transformers' WhisperConfig values (whisper-tiny's sizes). */
function readWhisperEncoderConfig(reader: ConfigReader): WhisperEncoderConfig {
  const config: WhisperEncoderConfig = {
    d_model: reader.integer("d_model", 384),
    encoder_layers: reader.integer("encoder_layers", 4),
    encoder_attention_heads: reader.integer("encoder_attention_heads", 6),
    encoder_ffn_dim: reader.integer("encoder_ffn_dim", 1536),
    num_mel_bins: reader.integer("num_mel_bins", 80),
    max_source_positions: reader.integer("max_source_positions", 1500),
    activation_function: reader.string("activation_function", "gelu"),
  };
  if (config.d_model % config.encoder_attention_heads !== 0) {
    const message = `${reader.source}: d_model ${config.d_model} is not divisible by encoder_attention_heads ${config.encoder_attention_heads}`;
    throw new ConfigError(message, "encoder_attention_heads", reader.source);
  }
  return config;
}

/**
 * Whisper's fixed sinusoidal positions (transformers' `sinusoids`): row p is
 * [sin(p·τ_0), ..., sin(p·τ_{C/2−1}), cos(p·τ_0), ..., cos(p·τ_{C/2−1})] with
 * τ_i = 10000^(−i / (C/2 − 1)). Returns float32 [length, channels].
 */
export function whisperSinusoids(length: number, channels: number): tf.Tensor {
  const half = channels / 2;
  const values = new Float32Array(length * channels);
  const increment = Math.log(10000) / (half - 1);
  for (let position = 0; position < length; position++) {
    for (let i = 0; i < half; i++) {
      const angle = position * Math.exp(-increment * i);
      values[position * channels + i] = Math.sin(angle);
      values[position * channels + half + i] = Math.cos(angle);
    }
  }
  return tf.tensor2d(values, [length, channels]);
}

/** `WhisperEncoderLayer`: `self_attn_layer_norm`, `self_attn.*` (no key bias), `final_layer_norm`, `fc1`, `fc2`. */
class WhisperEncoderLayer extends Module {
  readonly self_attn: SelfAttention;
  readonly self_attn_layer_norm: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly final_layer_norm: LayerNorm;
  private readonly activation: Activation;

  constructor(config: WhisperEncoderConfig) {
    super();
    const hidden = config.d_model;
    this.self_attn = this.addModule("self_attn", new SelfAttention(hidden, config.encoder_attention_heads, { keyBias: false }));
    this.self_attn_layer_norm = this.addModule("self_attn_layer_norm", new LayerNorm(hidden));
    this.fc1 = this.addModule("fc1", new Linear(hidden, config.encoder_ffn_dim));
    this.fc2 = this.addModule("fc2", new Linear(config.encoder_ffn_dim, hidden));
    this.final_layer_norm = this.addModule("final_layer_norm", new LayerNorm(hidden));
    this.activation = getActivation(config.activation_function, "activation_function");
  }

  /** hiddenStates: [B, P, C] -> [B, P, C]. */
  forward(hiddenStates: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let residual = hiddenStates;
      let h = this.self_attn_layer_norm.forward(hiddenStates);
      h = this.self_attn.forward(h);
      h = tf.add(residual, h);

      residual = h;
      h = this.final_layer_norm.forward(h);
      h = this.fc2.forward(this.activation(this.fc1.forward(h))); // through [B, P, I]
      return tf.add(residual, h);
    });
  }
}

/** transformers' `WhisperEncoder`, the `model.encoder` part of a Whisper checkpoint. */
class WhisperEncoderStack extends Module {
  readonly conv1: Conv1d;
  readonly conv2: Conv1d;
  readonly embed_positions: Embedding;
  readonly layers: ModuleList<WhisperEncoderLayer>;
  readonly layer_norm: LayerNorm;
  private readonly convActivation = getActivation("gelu");

  constructor(config: WhisperEncoderConfig) {
    super();
    const hidden = config.d_model;
    this.conv1 = this.addModule("conv1", new Conv1d(config.num_mel_bins, hidden, 3, { stride: 1, padding: 1 }));
    this.conv2 = this.addModule("conv2", new Conv1d(hidden, hidden, 3, { stride: 2, padding: 1 }));
    this.embed_positions = this.addModule("embed_positions", new Embedding(config.max_source_positions, hidden));
    const sinusoids = whisperSinusoids(config.max_source_positions, hidden);
    this.embed_positions.weight.assign(sinusoids);
    sinusoids.dispose();
    this.embed_positions.weight.trainable = false;
    const layers = Array.from({ length: config.encoder_layers }, () => new WhisperEncoderLayer(config));
    this.layers = this.addModule("layers", new ModuleList(layers));
    this.layer_norm = this.addModule("layer_norm", new LayerNorm(hidden));
  }

  /**
   * Call inside tf.tidy. inputFeatures: [B, F, L]. As in transformers, hidden_states contains the
   * embeddings, each layer's output but the last, then the final layer_norm output.
   */
  forward(inputFeatures: tf.Tensor, outputHiddenStates: boolean): EncoderOutput {
    const hiddenStates: tf.Tensor[] | undefined = outputHiddenStates ? [] : undefined;
    const frames = inputFeatures.transpose([0, 2, 1]); // [B, L, F]
    const convolved = this.convActivation(this.conv2.forward(this.convActivation(this.conv1.forward(frames)))); // [B, P, C]
    let h = tf.add(convolved, this.embed_positions.weight);
    for (const layer of this.layers) {
      hiddenStates?.push(h);
      h = layer.forward(h);
    }
    h = this.layer_norm.forward(h);
    hiddenStates?.push(h);
    return { last_hidden_state: h, hidden_states: hiddenStates };
  }
}

/** The `model` level of a WhisperForConditionalGeneration checkpoint, of which only `encoder` is built. */
class WhisperModelPart extends Module {
  readonly encoder: WhisperEncoderStack;

  constructor(config: WhisperEncoderConfig) {
    super();
    this.encoder = this.addModule("encoder", new WhisperEncoderStack(config));
  }
}

/**
 * The audio encoder of Whisper, loaded from a full `whisper` checkpoint
 * (WhisperForConditionalGeneration) whose decoder and `proj_out` it skips. Weight names are
 * `model.encoder.conv1.weight`, `model.encoder.layers.0.self_attn.q_proj.weight`, ...
 *
 * `model.encoder.embed_positions.weight` contains fixed sinusoids and stays frozen (as in
 * transformers), also after setTrainable(true).
 * NOTE: WhisperModel checkpoints name the encoder `encoder.*` without the `model.` prefix and do
 * not load into this class.
 *
 * @example
 * const whisper = loadPretrained<WhisperEncoder>("models/whisper-tiny");
 * const { last_hidden_state } = whisper.forward({ input_features }); // [B, 1500, 384]
 */
export class WhisperEncoder extends Module implements PretrainedModel, ModalityEncoder {
  readonly modelType = "whisper";
  readonly mainInputName = "input_features";
  readonly model: WhisperModelPart;

  /**
   * @param config resolved encoder fields.
   * @param sourceConfig the whole source config.json, decoder fields included, which toConfigJson writes back.
   */
  constructor(
    readonly config: WhisperEncoderConfig,
    private readonly sourceConfig: Record<string, unknown> = {},
  ) {
    super();
    this.model = this.addModule("model", new WhisperModelPart(config));
  }

  /** Builds the encoder with random weights (and sinusoidal positions) from a `whisper` config.json. */
  static fromConfig(config: Record<string, unknown>, source = "config.json"): WhisperEncoder {
    return new WhisperEncoder(readWhisperEncoderConfig(new ConfigReader(config, source)), config);
  }

  get hiddenSize(): number {
    return this.config.d_model;
  }

  /** Rows of `last_hidden_state` per input: max_source_positions (1500 for 30 s of audio). */
  get numPositions(): number {
    return this.config.max_source_positions;
  }

  /** Feature rows per input for the processor's placeholder expansion; equal to numPositions. */
  get numFeatures(): number {
    return this.config.max_source_positions;
  }

  /** Input frames per example: 2 · max_source_positions, because conv2 has stride 2. */
  get numFrames(): number {
    return 2 * this.config.max_source_positions;
  }

  /**
   * inputs.input_features: float32 log-mel [B, num_mel_bins, 2 · max_source_positions] (the
   * feature extractor pads to 30 s). Returns last_hidden_state [B, max_source_positions, d_model]
   * and, with `outputHiddenStates`, encoder_layers + 1 hidden states of that shape, the last one
   * after the final layer_norm. There is no pooler_output.
   */
  forward(inputs: Record<string, tf.Tensor>, { outputHiddenStates = false }: { outputHiddenStates?: boolean } = {}): EncoderOutput {
    const inputFeatures = requireInput(inputs, this.mainInputName, "WhisperEncoder");
    checkShape(inputFeatures, [null, this.config.num_mel_bins, this.numFrames], this.mainInputName, "WhisperEncoder");
    return tidyEncoderOutput(() => this.model.encoder.forward(inputFeatures, outputHiddenStates));
  }

  /** Sets every parameter's flag but keeps the sinusoidal positions frozen. */
  override setTrainable(trainable: boolean): this {
    super.setTrainable(trainable);
    this.model.encoder.embed_positions.weight.trainable = false;
    return this;
  }

  /**
   * Returns the source config, decoder fields included.
   * NOTE: a saved folder contains only the encoder weights, so transformers would give the decoder random weights.
   */
  toConfigJson(): Record<string, unknown> {
    return { ...this.sourceConfig, ...this.config, model_type: this.modelType };
  }

  /** Matches the decoder and the output projection of WhisperForConditionalGeneration. */
  ignoredCheckpointNames(): RegExp[] {
    return [/^model\.decoder\./, /^proj_out\./];
  }
}
