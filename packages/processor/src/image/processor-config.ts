import { ConfigError } from "@mm/core";

import type { ImageSize } from "./crop";
import type { NormalizeOptions } from "./normalize";
import { filterFromPilCode } from "./resample-filters";

/** `size` of preprocessor_config.json: the shortest edge to scale to, or an exact height and width. */
export type ResizeSize = { shortest_edge: number } | ImageSize;

/**
 * The settings of an image processor, keyed and spelled as in preprocessor_config.json, with every
 * field present and `size`, `crop_size`, `image_mean` and `image_std` in their expanded forms.
 */
export interface ImageProcessorConfig extends NormalizeOptions {
  do_resize: boolean;
  size: ResizeSize;
  /** Pillow resampling code: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming. */
  resample: number;
  do_center_crop: boolean;
  crop_size: ImageSize;
  /** Read for completeness: loadImage always converts to RGB, because every later step needs 3 channels. */
  do_convert_rgb: boolean;
}

/** preprocessor_config.json as read from disk: any subset of the keys, in HF's accepted forms. */
export type RawImageProcessorConfig = Record<string, unknown>;

/** Reads one processor's keys over its defaults, validating each present key. */
export function parseImageProcessorConfig(
  raw: RawImageProcessorConfig,
  defaults: ImageProcessorConfig,
  file?: string,
): ImageProcessorConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`image processor config must be a JSON object, got ${describe(raw)}`, undefined, file);
  }
  const read = new ConfigReader(raw, file);
  const config: ImageProcessorConfig = {
    do_resize: read.boolean("do_resize", defaults.do_resize),
    size: read.resizeSize("size", defaults.size),
    resample: read.resample("resample", defaults.resample),
    do_center_crop: read.boolean("do_center_crop", defaults.do_center_crop),
    crop_size: read.cropSize("crop_size", defaults.crop_size),
    do_rescale: read.boolean("do_rescale", defaults.do_rescale),
    rescale_factor: read.positiveNumber("rescale_factor", defaults.rescale_factor),
    do_normalize: read.boolean("do_normalize", defaults.do_normalize),
    image_mean: read.channelValues("image_mean", defaults.image_mean),
    image_std: read.channelValues("image_std", defaults.image_std),
    do_convert_rgb: read.boolean("do_convert_rgb", defaults.do_convert_rgb),
  };
  if (config.image_std.some((value) => value === 0)) {
    throw new ConfigError(`image_std must not contain 0, got ${JSON.stringify(config.image_std)}`, "image_std", file);
  }
  return config;
}

/** Reads typed values from a config object; a missing or null key takes the default. */
class ConfigReader {
  constructor(
    private readonly raw: RawImageProcessorConfig,
    private readonly file?: string,
  ) {}

  boolean(key: string, fallback: boolean): boolean {
    const value = this.raw[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "boolean") throw this.invalid(key, "true or false", value);
    return value;
  }

  positiveNumber(key: string, fallback: number): number {
    const value = this.raw[key];
    if (value === undefined || value === null) return fallback;
    if (!isFiniteNumber(value) || value <= 0) throw this.invalid(key, "a positive number", value);
    return value;
  }

  resample(key: string, fallback: number): number {
    const value = this.raw[key];
    if (value === undefined || value === null) return fallback;
    if (!Number.isInteger(value)) throw this.invalid(key, "a Pillow resampling code from 0 to 5", value);
    filterFromPilCode(value as number, key, this.file);
    return value as number;
  }

  /** HF's get_size_dict with default_to_square=False: a bare integer is the shortest edge. */
  resizeSize(key: string, fallback: ResizeSize): ResizeSize {
    const value = this.raw[key];
    if (value === undefined || value === null) return fallback;
    if (isPositiveInteger(value)) return { shortest_edge: value };
    if (isRecord(value) && "shortest_edge" in value && !("longest_edge" in value)) {
      return { shortest_edge: this.sizeField(key, value, "shortest_edge") };
    }
    if (isRecord(value) || Array.isArray(value)) return this.heightWidth(key, value);
    throw this.invalid(key, '{"shortest_edge": n}, {"height": h, "width": w} or an integer', value);
  }

  /** HF's get_size_dict with default_to_square=True: a bare integer is a square. */
  cropSize(key: string, fallback: ImageSize): ImageSize {
    const value = this.raw[key];
    if (value === undefined || value === null) return fallback;
    if (isPositiveInteger(value)) return { height: value, width: value };
    return this.heightWidth(key, value);
  }

  /** Accepts {height, width} or HF's legacy [height, width] list. */
  private heightWidth(key: string, value: unknown): ImageSize {
    if (Array.isArray(value) && value.length === 2 && value.every(isPositiveInteger)) {
      return { height: value[0], width: value[1] };
    }
    if (isRecord(value) && "height" in value && "width" in value) {
      return { height: this.sizeField(key, value, "height"), width: this.sizeField(key, value, "width") };
    }
    throw this.invalid(key, '{"height": h, "width": w} or an integer', value);
  }

  private sizeField(key: string, value: Record<string, unknown>, field: string): number {
    const entry = value[field];
    if (!isPositiveInteger(entry)) throw this.invalid(`${key}.${field}`, "a positive integer", entry);
    return entry;
  }

  /** Reads a number for all three channels or a list of three numbers. */
  channelValues(key: string, fallback: readonly [number, number, number]): [number, number, number] {
    const value = this.raw[key];
    if (value === undefined || value === null) return [...fallback];
    if (isFiniteNumber(value)) return [value, value, value];
    if (Array.isArray(value) && value.length === 3 && value.every(isFiniteNumber)) {
      return [value[0], value[1], value[2]];
    }
    throw this.invalid(key, "a number or a list of 3 numbers (R, G, B)", value);
  }

  private invalid(key: string, expected: string, value: unknown): ConfigError {
    const where = this.file ? ` in ${this.file}` : "";
    return new ConfigError(`${key}${where} must be ${expected}, got ${JSON.stringify(value)}`, key, this.file);
  }
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function isPositiveInteger(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  return value === null ? "null" : typeof value;
}
