import { CLIPImageProcessor, SiglipImageProcessor, ViTImageProcessor, type ImageInput, type ImageProcessor } from "../image/image-processor";

/** Float32 values with their shape, before they become a tensor. */
export interface ArrayTensor {
  values: Float32Array;
  shape: number[];
}

/**
 * Fields of an encoder's config.json (for LLaVA, its `vision_config`) that fix how many feature
 * rows the encoder outputs per input. Keys are spelled as in Hugging Face configs.
 */
export interface EncoderFeatureConfig {
  /** Side of the square patches of a vision transformer, in pixels. */
  patch_size?: number;
  /** Output positions of a Whisper encoder: 1500 for 30 s of audio. */
  max_source_positions?: number;
}

/**
 * Turns the raw inputs of one modality (images, audio clips) into encoder inputs.
 * `inputKey` names the raw inputs in `MultimodalProcessor.call` (e.g. "images"), `outputKey` the
 * batch key the encoder reads (e.g. "pixel_values").
 */
export interface EncoderProcessor<Input = unknown> {
  readonly inputKey: string;
  readonly outputKey: string;
  /** Processes K inputs into one [K, ...] array. */
  process(inputs: Input[]): Promise<ArrayTensor>;
  /**
   * Returns the feature rows that the usual encoder for this processor outputs per input, given
   * the encoder's config, or undefined when the config lacks the needed field. Without this
   * method, MultimodalProcessor needs `numFeatureFns` or a model for the modality.
   */
  featureCount?(encoderConfig: EncoderFeatureConfig): number | undefined;
}

/**
 * Adapts an ImageProcessor: `images` in, `pixel_values` [K, 3, H, W] out. Its `featureCount`
 * follows the processor class. CLIPImageProcessor and ViTImageProcessor pair with encoders that
 * put a class token before the patches (CLIP and ViT in transformers), so they count
 * (H / patch_size) · (W / patch_size) + 1 rows. SiglipImageProcessor pairs with SigLIP, which
 * has no class token. Other processors return undefined.
 */
export function imageEncoderProcessor(processor: ImageProcessor): EncoderProcessor<ImageInput> {
  return {
    inputKey: "images",
    outputKey: "pixel_values",
    async process(images) {
      const batch = await processor.process(images);
      return { values: batch.pixel_values, shape: batch.shape };
    },
    featureCount: (encoderConfig) => imageFeatureCount(processor, encoderConfig),
  };
}

function imageFeatureCount(processor: ImageProcessor, { patch_size: patchSize }: EncoderFeatureConfig): number | undefined {
  const hasClassToken = processor instanceof CLIPImageProcessor || processor instanceof ViTImageProcessor;
  if (patchSize === undefined || !(hasClassToken || processor instanceof SiglipImageProcessor)) return undefined;

  // The patch convolution has stride patch_size and no padding, so it drops a remainder.
  const { height, width } = processor.outputSize();
  const patches = Math.floor(height / patchSize) * Math.floor(width / patchSize);
  return patches + (hasClassToken ? 1 : 0);
}
