import { ConfigError, InputError } from "@mm/core";
import type { PaddingSide, TruncationSide } from "../tokenizer/special-tokens";
import type { EncoderProcessor } from "./encoder-processor";

/**
 * The raw inputs of one modality in `MultimodalProcessor.call`, under the processor's inputKey:
 * `{ images: [...] }` or `{ audio: [...] }`. The list is either one list per text (`[[a, b], [],
 * [c]]`) or one flat list in order of appearance, which is split by counting the modality's
 * tokens in each text, as transformers' processors do.
 */
export type ModalityCallInputs = Readonly<Record<string, readonly unknown[]>>;

/** Text options of `MultimodalProcessor.call`, named as in transformers' tokenizer call. */
export interface LlmInputs {
  /** One prompt or a batch of prompts, with one modality token (e.g. `<image>`) per input. */
  text: string | readonly string[];
  /**
   * true or "longest" (default) pads to the longest row; "max_length" pads every row to
   * maxLength.
   */
  padding?: true | "longest" | "max_length";
  /** Maximum row length; longer rows lose tokens on the truncation side. Required for "max_length". */
  maxLength?: number;
  /** Default: the tokenizer's `paddingSide`. Generation with a batch needs "left". */
  paddingSide?: PaddingSide;
  /** Default: the tokenizer's `truncationSide` (`truncation_side` of tokenizer_config.json). */
  truncationSide?: TruncationSide;
  /**
   * Adds the special tokens of the tokenizer.json post-processor (Llama's BOS). Default true.
   * Pass false for text rendered by `applyChatTemplate`, which already starts with BOS.
   */
  addSpecialTokens?: boolean;
}

/** The request of `MultimodalProcessor.call`. */
export interface ProcessorCallRequest {
  /** Modality key → raw inputs under the processor's inputKey, e.g. `{ vision: { images } }`. */
  encoderInputs?: Readonly<Record<string, ModalityCallInputs>>;
  llmInputs: LlmInputs;
}

/**
 * Returns whether rows are padded to maxLength.
 *
 * @throws ConfigError on an unknown padding value, or "max_length" without maxLength.
 */
export function padsToMaxLength({ padding = "longest", maxLength }: LlmInputs): boolean {
  if (padding !== true && padding !== "longest" && padding !== "max_length") {
    throw new ConfigError(
      `llmInputs.padding must be true, "longest" or "max_length", found ${JSON.stringify(padding)}; every row of ` +
        `a batch needs the same length`,
      "padding",
    );
  }
  if (padding === "max_length" && maxLength === undefined) {
    throw new ConfigError(`llmInputs.padding "max_length" needs llmInputs.maxLength, the length to pad every row to`, "maxLength");
  }
  return padding === "max_length";
}

/**
 * Reads the raw input list of one modality from `encoderInputs[modality]`.
 *
 * @throws InputError when the object has another key than the processor's inputKey, or the
 *   value is not an array.
 */
export function readModalityInputs(modality: string, processor: EncoderProcessor, given: ModalityCallInputs): readonly unknown[] {
  const keys = Object.keys(given ?? {});
  const list = given?.[processor.inputKey];
  if (keys.length !== 1 || !Array.isArray(list)) {
    throw new InputError(
      `${modality}: expected encoderInputs.${modality} to be { ${processor.inputKey}: [...] }, found keys ` +
        `[${keys.join(", ")}]; the ${modality} processor reads "${processor.inputKey}"`,
    );
  }
  return list;
}

/**
 * Splits one modality's inputs into one list per text. A list of lists is taken as per-text
 * lists. A flat list is split in order: text i takes as many inputs as it has modality tokens.
 *
 * @param tokenCounts - the number of the modality's tokens in each text.
 * @throws InputError when per-text lists do not match the number of texts, when lists and single
 *   inputs are mixed, or when a flat list has more or fewer inputs than the texts have tokens.
 */
export function splitInputsPerSample(
  modality: string,
  inputKey: string,
  inputs: readonly unknown[],
  tokenCounts: readonly number[],
): unknown[][] {
  const nested = inputs.filter((input) => Array.isArray(input)).length;
  if (nested > 0 && nested < inputs.length) {
    throw new InputError(
      `${modality}: encoderInputs.${modality}.${inputKey} mixes lists and single inputs; pass one list per text, ` +
        `or one flat list in the order the ${modality} tokens appear`,
    );
  }
  if (nested > 0) return splitNested(modality, inputKey, inputs as readonly unknown[][], tokenCounts.length);

  const total = tokenCounts.reduce((sum, count) => sum + count, 0);
  if (total !== inputs.length) {
    throw new InputError(
      `${modality}: the texts contain ${total} ${modality} tokens (${tokenCounts.join(", ")} per text) but ` +
        `${inputs.length} ${inputKey} were given; put one ${modality} token in the text for each input`,
    );
  }
  const perSample: unknown[][] = [];
  let start = 0;
  for (const count of tokenCounts) {
    perSample.push(inputs.slice(start, start + count));
    start += count;
  }
  return perSample;
}

function splitNested(modality: string, inputKey: string, lists: readonly unknown[][], textCount: number): unknown[][] {
  if (lists.length !== textCount) {
    throw new InputError(
      `${modality}: encoderInputs.${modality}.${inputKey} has ${lists.length} per-text lists for ${textCount} texts; ` +
        `give one list per text (an empty list for a text without ${inputKey})`,
    );
  }
  return lists.map((list) => [...list]);
}
