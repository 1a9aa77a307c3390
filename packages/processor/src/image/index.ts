export { loadImage } from "./decode";
export { checkDecodedImage } from "./decoded-image";
export type { DecodedImage } from "./decoded-image";
export { resize } from "./resize";
export { filterFromPilCode } from "./resample-filters";
export type { ResampleFilter } from "./resample-filters";
export { centerCrop } from "./crop";
export type { ImageSize } from "./crop";
export { rescaleAndNormalize } from "./normalize";
export type { NormalizeOptions } from "./normalize";
export { resizeOutputSize } from "./resize-size";
export { parseImageProcessorConfig } from "./processor-config";
export type { ImageProcessorConfig, RawImageProcessorConfig, ResizeSize } from "./processor-config";
export {
  CLIPImageProcessor,
  CLIP_DEFAULTS,
  ImageProcessor,
  SIGLIP_DEFAULTS,
  SiglipImageProcessor,
  VIT_DEFAULTS,
  ViTImageProcessor,
  loadImageProcessor,
} from "./image-processor";
export type { ImageBatch, ImageInput } from "./image-processor";
