import type { ImageSize } from "./crop";
import type { ResizeSize } from "./processor-config";

/**
 * Computes the size an image is resized to, as transformers' `get_resize_output_image_size` with
 * `default_to_square=False`: `{height, width}` is used as it is, and `{shortest_edge: s}` scales
 * the shorter side to s and the longer to `int(s * long / short)`, truncated, not rounded.
 * A square image counts its width as the shorter side.
 */
export function resizeOutputSize(image: { height: number; width: number }, size: ResizeSize): ImageSize {
  if (!("shortest_edge" in size)) return { height: size.height, width: size.width };
  const { height, width } = image;
  const shortest = size.shortest_edge;
  const widthIsShort = width <= height;
  const short = widthIsShort ? width : height;
  const long = widthIsShort ? height : width;
  const newLong = Math.trunc((shortest * long) / short);
  return widthIsShort ? { height: newLong, width: shortest } : { height: shortest, width: newLong };
}
