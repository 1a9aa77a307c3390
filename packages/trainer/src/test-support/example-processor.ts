import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { imageEncoderProcessor, loadImageProcessor, MultimodalProcessor, Tokenizer } from "@mm/processor";

/** The repository's examples/vlm folder: the Llama 2 tokenizer, real photos and captions. */
export const EXAMPLE = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../examples/vlm");
export const EXAMPLE_IMAGES = join(EXAMPLE, "data", "images");

/** Feature rows the example processor counts per image. */
export const FEATURES_PER_IMAGE = 4;

/**
 * Builds a processor with the example tokenizer (`<image>` as the vision token) and a CLIP image
 * processor that center-crops to 16×16, so batches are small and fast to build.
 */
export async function buildExampleProcessor(): Promise<MultimodalProcessor> {
  const imageProcessor = await loadImageProcessor({
    image_processor_type: "CLIPImageProcessor",
    size: { shortest_edge: 16 },
    crop_size: { height: 16, width: 16 },
  });
  return new MultimodalProcessor({
    encoderProcessors: { vision: imageEncoderProcessor(imageProcessor) },
    tokenizer: Tokenizer.fromPretrained(join(EXAMPLE, "tokenizer")),
    numFeatureFns: { vision: () => FEATURES_PER_IMAGE },
    predefinedTokens: { vision: "<image>" },
  });
}
