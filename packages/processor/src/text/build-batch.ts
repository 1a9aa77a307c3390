import { ConfigError, InputError } from "@mm/core";
import type { PaddingSide, TruncationSide } from "../tokenizer/special-tokens";
import { IGNORE_INDEX } from "./labels";

/** One tokenized sample. Without labels, none of its positions is supervised. */
export interface TextSample {
  input_ids: readonly number[];
  labels?: readonly number[];
}

/** Options of {@link buildBatch}. */
export interface BatchOptions {
  /** Id written at padding positions of input_ids (see `Tokenizer.padTokenId`). */
  padTokenId: number;
  /** Side of each row that receives padding. */
  paddingSide: PaddingSide;
  /**
   * Maximum row length; longer samples lose tokens on the `truncationSide`. Default: no
   * truncation.
   */
  maxLength?: number;
  /** Side of a sample that loses tokens when it is longer than maxLength. Default "right". */
  truncationSide?: TruncationSide;
  /**
   * Pads every row to maxLength (transformers' `padding="max_length"`) instead of to the longest
   * row. Requires maxLength. Default false.
   */
  padToMaxLength?: boolean;
  /**
   * Modality key → placeholder token id. With it, truncation that would remove any placeholder
   * of a sample raises an InputError, because the encoder features of that input would have no
   * positions left.
   */
  modalityTokenIds?: Readonly<Record<string, number>>;
}

/** A padded batch in row-major order; B samples, T positions. */
export interface TextBatch {
  /** int32 [B, T]; padTokenId at padding. */
  input_ids: Int32Array;
  /** int32 [B, T]; 1 at tokens, 0 at padding. */
  attention_mask: Int32Array;
  /** int32 [B, T]; -100 at padding and at unsupervised positions. */
  labels: Int32Array;
  /** [B, T]. */
  shape: [number, number];
}

/**
 * Pads samples to the longest one (after truncation to `maxLength`), or to maxLength with
 * `padToMaxLength`, and stacks them into flat int32 arrays of shape [B, T].
 *
 * @throws InputError on an empty batch, an empty sample, labels whose length differs from
 *   input_ids, or truncation that would remove modality placeholders.
 * @throws ConfigError on a padTokenId or maxLength that is not a valid integer.
 */
export function buildBatch(samples: readonly TextSample[], options: BatchOptions): TextBatch {
  checkBatchOptions(options);
  if (samples.length === 0) throw new InputError("buildBatch: the batch has no samples; pass at least one sample");

  const rows = samples.map((sample, index) => truncateSample(checkSample(sample, index), index, options));
  const batchSize = rows.length;
  const length = options.padToMaxLength ? options.maxLength! : Math.max(...rows.map((row) => row.input_ids.length));

  const inputIds = new Int32Array(batchSize * length).fill(options.padTokenId);
  const attentionMask = new Int32Array(batchSize * length);
  const labels = new Int32Array(batchSize * length).fill(IGNORE_INDEX);

  rows.forEach((row, b) => {
    const padding = length - row.input_ids.length;
    const start = b * length + (options.paddingSide === "left" ? padding : 0);
    inputIds.set(row.input_ids, start);
    attentionMask.fill(1, start, start + row.input_ids.length);
    if (row.labels !== undefined) labels.set(row.labels, start);
  });

  return { input_ids: inputIds, attention_mask: attentionMask, labels, shape: [batchSize, length] };
}

function checkBatchOptions({ padTokenId, paddingSide, maxLength, truncationSide, padToMaxLength }: BatchOptions): void {
  if (!Number.isInteger(padTokenId) || padTokenId < 0) {
    throw new ConfigError(`buildBatch: padTokenId must be a non-negative integer, found ${padTokenId}`, "padTokenId");
  }
  if (paddingSide !== "left" && paddingSide !== "right") {
    const found = JSON.stringify(paddingSide);
    throw new ConfigError(`buildBatch: paddingSide must be "left" or "right", found ${found}`, "paddingSide");
  }
  if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength < 1)) {
    throw new ConfigError(`buildBatch: maxLength must be a positive integer, found ${maxLength}`, "maxLength");
  }
  if (truncationSide !== undefined && truncationSide !== "left" && truncationSide !== "right") {
    const found = JSON.stringify(truncationSide);
    throw new ConfigError(`buildBatch: truncationSide must be "left" or "right", found ${found}`, "truncationSide");
  }
  if (padToMaxLength && maxLength === undefined) {
    throw new ConfigError("buildBatch: padToMaxLength needs maxLength; pass the row length to pad to", "maxLength");
  }
}

function checkSample(sample: TextSample, index: number): TextSample {
  if (sample.input_ids.length === 0) {
    throw new InputError(`sample ${index} has no tokens; drop it or give it at least one token`);
  }
  if (sample.labels !== undefined && sample.labels.length !== sample.input_ids.length) {
    throw new InputError(
      `sample ${index}: labels has ${sample.labels.length} entries but input_ids has ${sample.input_ids.length}; ` +
        `give one label per token`,
    );
  }
  return sample;
}

/**
 * Cuts a sample to maxLength: "right" keeps the first maxLength tokens, "left" the last ones,
 * as transformers' `truncation_side` does.
 */
function truncateSample(sample: TextSample, index: number, options: BatchOptions): TextSample {
  const { maxLength, modalityTokenIds = {}, truncationSide = "right" } = options;
  if (maxLength === undefined || sample.input_ids.length <= maxLength) return sample;

  const start = truncationSide === "left" ? sample.input_ids.length - maxLength : 0;
  const end = start + maxLength;
  for (const [modality, id] of Object.entries(modalityTokenIds)) {
    checkPlaceholdersKept(sample.input_ids, { start, end, maxLength, truncationSide }, modality, id, index);
  }
  return {
    input_ids: sample.input_ids.slice(start, end),
    labels: sample.labels?.slice(start, end),
  };
}

interface KeptWindow {
  /** First kept position. */
  start: number;
  /** Position after the last kept one. */
  end: number;
  maxLength: number;
  truncationSide: TruncationSide;
}

function checkPlaceholdersKept(ids: readonly number[], kept: KeptWindow, modality: string, id: number, index: number): void {
  const firstPosition = ids.indexOf(id);
  const lastPosition = ids.lastIndexOf(id);
  if (firstPosition < 0 || (firstPosition >= kept.start && lastPosition < kept.end)) return;

  const total = ids.filter((tokenId) => tokenId === id).length;
  const cut = total - ids.slice(kept.start, kept.end).filter((tokenId) => tokenId === id).length;
  const needed = kept.truncationSide === "left" ? ids.length - firstPosition : lastPosition + 1;
  const cutEnd = kept.truncationSide === "left" ? "start" : "end";
  throw new InputError(
    `${modality}: truncating sample ${index} from ${ids.length} to maxLength ${kept.maxLength} tokens would cut ` +
      `${cut} of its ${total} ${modality} placeholder tokens (id ${id}) at its ${cutEnd}; raise maxLength to at ` +
      `least ${needed} or shorten the text of that sample`,
  );
}
