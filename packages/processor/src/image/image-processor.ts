
import { ConfigError, InputError, ShapeError, getLogger } from "@mm/core";
import { readPreprocessorConfig } from "../config/read-preprocessor-config";

import { centerCrop, type ImageSize } from "./crop";
import { loadImage } from "./decode";
import type { DecodedImage } from "./decoded-image";
import { rescaleAndNormalize } from "./normalize";
import {
  parseImageProcessorConfig,
  type ImageProcessorConfig,
  type RawImageProcessorConfig,
} from "./processor-config";
import { filterFromPilCode } from "./resample-filters";
import { resize } from "./resize";
import { resizeOutputSize } from "./resize-size";

const logger = getLogger("processor/image");

/** One image as `process` accepts it: a file path, encoded bytes or a DecodedImage. */
export type ImageInput = string | Buffer | DecodedImage;

/** The output of `process`: float32 pixel_values, channels first, and its shape. */
export interface ImageBatch {
  /** float32 `[B, 3, H, W]`, row-major. */
  pixel_values: Float32Array;
  shape: [number, number, number, number];
}

/**
 * An image processor that turns image files into pixel_values with the same steps and numbers as
 * the transformers processor of the same name: decode to RGB, resize, center crop, rescale,
 * normalise, channels first. The CLIP pipeline is tested against transformers 4.40.2 outputs.
 */
export class ImageProcessor {
  /** The settings in use, spelled as in preprocessor_config.json. */
  readonly config: ImageProcessorConfig;

  /**
   * @param raw preprocessor_config.json contents; missing keys take `defaults`.
   * @param file the file `raw` came from, named in error messages.
   * @throws ConfigError for a key with an invalid value.
   */
  constructor(raw: RawImageProcessorConfig, defaults: ImageProcessorConfig, file?: string) {
    this.config = parseImageProcessorConfig(raw, defaults, file);
  }

  /**
   * Returns the height and width of every image's pixel_values.
   * @throws ConfigError when the size depends on each image (shortest-edge resize without crop).
   */
  outputSize(): ImageSize {
    const { do_center_crop, crop_size, do_resize, size } = this.config;
    if (do_center_crop) return { ...crop_size };
    if (do_resize && !("shortest_edge" in size)) return { height: size.height, width: size.width };
    throw new ConfigError(
      `the output size depends on each image's aspect ratio because do_center_crop is false and ` +
        `size is ${do_resize ? JSON.stringify(size) : "not applied"}; set do_center_crop with a ` +
        `crop_size, or size {"height": h, "width": w}`,
      "do_center_crop",
    );
  }

  /**
   * Decodes and preprocesses one image.
   * @returns float32 `[3, height, width]` pixel values with their height and width.
   */
  async preprocess(input: ImageInput): Promise<{ data: Float32Array; height: number; width: number }> {
    const transformed = this.transform(await loadImage(input));
    return { data: rescaleAndNormalize(transformed, this.config), height: transformed.height, width: transformed.width };
  }

  /**
   * Decodes and preprocesses a batch of images; every image must end at the same size.
   * @returns pixel_values float32 `[B, 3, H, W]` and its shape.
   * @throws InputError for an empty batch or an image that cannot be decoded.
   * @throws ShapeError when two images end at different sizes.
   */
  async process(images: ImageInput[]): Promise<ImageBatch> {
    if (images.length === 0) throw new InputError("process received no images; pass at least one image");
    const processed = await Promise.all(images.map((image) => this.preprocess(image)));
    const { height, width } = processed[0];
    processed.forEach((image, index) => {
      if (image.height !== height || image.width !== width) {
        throw new ShapeError(
          `image ${index} was preprocessed to ${image.height}x${image.width} but image 0 to ` +
            `${height}x${width}; set do_center_crop or size {"height", "width"} so that every image ends ` +
            `at the same size`,
        );
      }
    });
    const plane = 3 * height * width;
    const pixelValues = new Float32Array(images.length * plane);
    processed.forEach((image, index) => pixelValues.set(image.data, index * plane));
    return { pixel_values: pixelValues, shape: [images.length, 3, height, width] };
  }

  /** Resizes and crops a decoded image as configured. */
  transform(image: DecodedImage): DecodedImage {
    let result = image;
    if (this.config.do_resize) {
      const target = resizeOutputSize(result, this.config.size);
      result = resize(result, target.width, target.height, filterFromPilCode(this.config.resample));
    }
    if (this.config.do_center_crop) result = centerCrop(result, this.config.crop_size);
    return result;
  }
}

/** openai/clip-vit-base-patch32 normalisation constants, the defaults of CLIPImageProcessor. */
const OPENAI_CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
const HALF: [number, number, number] = [0.5, 0.5, 0.5];

/** Defaults of transformers 4.40's CLIPImageProcessor for keys missing from the config. */
export const CLIP_DEFAULTS: ImageProcessorConfig = {
  do_resize: true,
  size: { shortest_edge: 224 },
  resample: 3,
  do_center_crop: true,
  crop_size: { height: 224, width: 224 },
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: OPENAI_CLIP_MEAN,
  image_std: OPENAI_CLIP_STD,
  do_convert_rgb: true,
};

/** Defaults of transformers 4.40's SiglipImageProcessor: a bicubic resize to 224x224, no crop. */
export const SIGLIP_DEFAULTS: ImageProcessorConfig = {
  ...CLIP_DEFAULTS,
  size: { height: 224, width: 224 },
  do_center_crop: false,
  image_mean: HALF,
  image_std: HALF,
};

/** Defaults of transformers 4.40's ViTImageProcessor: a bilinear resize to 224x224, no crop. */
export const VIT_DEFAULTS: ImageProcessorConfig = { ...SIGLIP_DEFAULTS, resample: 2 };

/** CLIP preprocessing: shortest edge to 224 (bicubic), center crop 224x224, CLIP mean and std. */
export class CLIPImageProcessor extends ImageProcessor {
  constructor(raw: RawImageProcessorConfig = {}, file?: string) {
    super(raw, CLIP_DEFAULTS, file);
  }
}

/** SigLIP preprocessing; transformers' SiglipImageProcessor has no center crop. */
export class SiglipImageProcessor extends ImageProcessor {
  constructor(raw: RawImageProcessorConfig = {}, file?: string) {
    super(withoutCenterCrop(raw, "SiglipImageProcessor", file), SIGLIP_DEFAULTS, file);
  }
}

/** ViT preprocessing; transformers' ViTImageProcessor has no center crop. */
export class ViTImageProcessor extends ImageProcessor {
  constructor(raw: RawImageProcessorConfig = {}, file?: string) {
    super(withoutCenterCrop(raw, "ViTImageProcessor", file), VIT_DEFAULTS, file);
  }
}

function withoutCenterCrop(raw: RawImageProcessorConfig, name: string, file?: string): RawImageProcessorConfig {
  if (typeof raw !== "object" || raw === null || raw.do_center_crop !== true) return raw;
  logger.warn(`${file ? `${file}: ` : ""}${name} has no center crop in transformers, so do_center_crop is ignored`);
  return { ...raw, do_center_crop: false };
}

const PROCESSOR_CLASSES: Record<string, new (raw: RawImageProcessorConfig, file?: string) => ImageProcessor> = {
  CLIPImageProcessor,
  SiglipImageProcessor,
  ViTImageProcessor,
};

/**
 * Builds the processor named by `image_processor_type` (or the older `feature_extractor_type`,
 * where `CLIPFeatureExtractor` means CLIPImageProcessor) from a preprocessor_config.json object, a
 * path to that file, or a model folder that contains it.
 * @throws ConfigError for a missing or invalid file, an unknown type or an invalid key.
 */
export async function loadImageProcessor(source: string | RawImageProcessorConfig): Promise<ImageProcessor> {
  const { raw, file } = typeof source === "string" ? await readImageConfig(source) : { raw: source, file: undefined };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`image processor config${file ? ` ${file}` : ""} must be a JSON object`, undefined, file);
  }
  const typeName = processorTypeName(raw);
  const ProcessorClass = typeName === undefined ? undefined : PROCESSOR_CLASSES[typeName];
  if (ProcessorClass === undefined) {
    throw new ConfigError(
      `image_processor_type${file ? ` in ${file}` : ""} is ${JSON.stringify(typeName ?? null)}; ` +
        `supported: ${Object.keys(PROCESSOR_CLASSES).join(", ")}`,
      "image_processor_type",
      file,
    );
  }
  return new ProcessorClass(raw, file);
}

function processorTypeName(raw: RawImageProcessorConfig): string | undefined {
  const named = raw.image_processor_type ?? raw.feature_extractor_type;
  if (typeof named !== "string") return undefined;
  return named.replace(/FeatureExtractor$/, "ImageProcessor");
}

async function readImageConfig(path: string): Promise<{ raw: RawImageProcessorConfig; file: string }> {
  const { raw, file } = await readPreprocessorConfig(path, "image processor");
  return { raw: raw as RawImageProcessorConfig, file };
}
