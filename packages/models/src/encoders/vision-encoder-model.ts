import type * as tf from "@tensorflow/tfjs";
import { Module, type EncoderOutput, type ModalityEncoder } from "@mm/core";
import type { PretrainedModel } from "../pretrained/pretrained-model";
import { checkShape, requireInput, tidyEncoderOutput } from "./encoder-inputs";
import { countPatches, type VisionConfig } from "./vision-config";

/**
 * Base of the image encoders (CLIP, SigLIP, ViT): the `pixel_values` input check, the tidy
 * wrapper around the family's forward pass, the feature counts and the config.json writer.
 */
export abstract class VisionEncoderModel extends Module implements PretrainedModel, ModalityEncoder {
  abstract readonly modelType: string;
  readonly mainInputName = "pixel_values";
  /** The transformers class name written to `architectures`. */
  protected abstract readonly architecture: string;
  /** Whether a class token precedes the patch rows. */
  protected abstract readonly hasClassToken: boolean;

  /**
   * @param config resolved vision fields.
   * @param extraFields further keys of the source config, written back unchanged by toConfigJson.
   */
  constructor(
    readonly config: VisionConfig,
    protected readonly extraFields: Record<string, unknown>,
  ) {
    super();
  }

  get hiddenSize(): number {
    return this.config.hidden_size;
  }

  /** Patch rows per image: (image_size / patch_size)². */
  get numPatches(): number {
    return countPatches(this.config);
  }

  /** Rows of `last_hidden_state` per image: the patches, plus one when there is a class token. */
  get numPositions(): number {
    return this.numPatches + (this.hasClassToken ? 1 : 0);
  }

  /** Feature rows per image for the processor's placeholder expansion; equal to numPositions. */
  get numFeatures(): number {
    return this.numPositions;
  }

  /**
   * inputs.pixel_values: float32 [B, num_channels, image_size, image_size]. Returns
   * last_hidden_state [B, numPositions, C], pooler_output [B, C] where the family has a pooler,
   * and with `outputHiddenStates` Hugging Face's hidden_states: num_hidden_layers + 1 tensors of
   * [B, numPositions, C]. The caller disposes the returned tensors.
   */
  forward(inputs: Record<string, tf.Tensor>, { outputHiddenStates = false }: { outputHiddenStates?: boolean } = {}): EncoderOutput {
    const pixelValues = requireInput(inputs, this.mainInputName, this.architecture);
    const { num_channels: channels, image_size: size } = this.config;
    checkShape(pixelValues, [null, channels, size, size], this.mainInputName, this.architecture);
    return tidyEncoderOutput(() => this.encode(pixelValues, outputHiddenStates));
  }

  /** The family's forward pass; runs inside tf.tidy. pixelValues: [B, num_channels, H, W]. */
  protected abstract encode(pixelValues: tf.Tensor, outputHiddenStates: boolean): EncoderOutput;

  /** Returns the source config's keys with the resolved vision fields, this family's `model_type` and `architectures`. */
  toConfigJson(): Record<string, unknown> {
    return { ...this.extraFields, ...this.config, architectures: [this.architecture], model_type: this.modelType };
  }
}
