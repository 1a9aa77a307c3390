import type { ImageInput, ImageProcessor } from "../image/image-processor";

/** Float32 values with their shape, before they become a tensor. */
export interface ArrayTensor {
  values: Float32Array;
  shape: number[];
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
}

/** Adapts an ImageProcessor: `images` in, `pixel_values` [K, 3, H, W] out. */
export function imageEncoderProcessor(processor: ImageProcessor): EncoderProcessor<ImageInput> {
  return {
    inputKey: "images",
    outputKey: "pixel_values",
    async process(images) {
      const batch = await processor.process(images);
      return { values: batch.pixel_values, shape: batch.shape };
    },
  };
}
