import * as tf from "@tensorflow/tfjs";
import { Module } from "../nn/module";
import type { EncoderOutput, ModalityEncoder } from "./contracts";

/** Encoder inputs as the processor produced them, keyed as in transformers (`pixel_values`, ...). */
export type EncoderInputs = Record<string, tf.Tensor>;

/** A projector: any module mapping [..., encoder hidden] to [..., LLM hidden]. */
export interface ProjectorModule extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  forward(features: tf.Tensor): tf.Tensor;
}

export interface ModalEncoderModuleOptions {
  model: ModalityEncoder;
  projector?: ProjectorModule;
  /** Extra keyword inputs passed to the encoder on every call. */
  additionalArgs?: EncoderInputs;
  /**
   * Requests `hidden_states` from the encoder, for a postprocessModuleCallback that selects a
   * layer other than the last (LLaVA's `vision_feature_layer`). Default false.
   */
  outputHiddenStates?: boolean;
  /**
   * Feature rows per input that reach the LLM, when the callbacks change the encoder's
   * `numFeatures` (LLaVA's "default" strategy drops CLIP's class token: patches instead of
   * patches + 1). Default: the encoder's `numFeatures`.
   */
  featuresPerInput?: number;
  /** Runs before the encoder; returns the inputs the encoder receives. */
  preprocessCallback?: (inputs: EncoderInputs) => EncoderInputs;
  /** Runs on the encoder's output; returns [K, N, C] features. Default: `last_hidden_state`. */
  postprocessModuleCallback?: (inputs: EncoderInputs, output: EncoderOutput) => tf.Tensor;
  /** Runs on the projector's output [K, N, C_llm]; returns the features to inject. */
  postprocessProjectorCallback?: (inputs: EncoderInputs, output: tf.Tensor) => tf.Tensor;
}

/**
 * One modality's path into the LLM: preprocess callback, encoder, postprocess-module callback,
 * projector, postprocess-projector callback. Attribute names `module` and `projector` give the
 * parameter paths `<modality>_encoder.module.*` and `<modality>_encoder.projector.*`.
 */
export class ModalEncoderModule extends Module {
  readonly module: ModalityEncoder;
  projector: ProjectorModule | undefined;
  private readonly options: ModalEncoderModuleOptions;

  constructor(options: ModalEncoderModuleOptions) {
    super();
    this.options = options;
    this.module = this.addModule("module", options.model);
    if (options.projector !== undefined) this.setProjector(options.projector);
  }

  /** Attaches a projector (the MultimodalModel creates one lazily when none was given). */
  setProjector(projector: ProjectorModule): void {
    if (this.projector !== undefined) throw new Error("this encoder already has a projector");
    this.projector = this.addModule("projector", projector);
  }

  get mainInputName(): string {
    return this.module.mainInputName;
  }

  /**
   * Feature rows per input after the callbacks: the `featuresPerInput` option, else the encoder's
   * `numFeatures`; undefined when the count depends on the input. The processor expands each
   * modality token to this many placeholders.
   */
  get featuresPerInput(): number | undefined {
    return this.options.featuresPerInput ?? this.module.numFeatures;
  }

  /** Preprocess callback, encoder and postprocess-module callback: inputs -> [K, N, C_enc]. */
  encode(inputs: EncoderInputs): tf.Tensor {
    const prepared = this.options.preprocessCallback?.(inputs) ?? inputs;
    const output = this.module.forward({ ...prepared, ...this.options.additionalArgs }, { outputHiddenStates: this.options.outputHiddenStates ?? false });
    const features = this.options.postprocessModuleCallback?.(inputs, output) ?? output.last_hidden_state;
    disposeUnused(output, features);
    return features;
  }

  /** Projector and postprocess-projector callback: [K, N, C_enc] -> [K, N, C_llm]. */
  project(inputs: EncoderInputs, features: tf.Tensor): tf.Tensor {
    if (this.projector === undefined) throw new Error("this encoder has no projector; the MultimodalModel creates one on construction");
    const projected = this.projector.forward(features);
    return this.options.postprocessProjectorCallback?.(inputs, projected) ?? projected;
  }

  /** The full path: inputs -> [K, N, C_llm]. */
  forward(inputs: EncoderInputs): tf.Tensor {
    return tf.tidy(() => this.project(inputs, this.encode(inputs)));
  }
}

function disposeUnused(output: EncoderOutput, kept: tf.Tensor): void {
  const tensors = [output.last_hidden_state, output.pooler_output, ...(output.hidden_states ?? [])];
  for (const tensor of new Set(tensors)) if (tensor !== undefined && tensor !== kept) tensor.dispose();
}
