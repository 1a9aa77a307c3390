import { ConfigError, InputError } from "@mm/core";
import { IGNORE_INDEX } from "./labels";

/** Modality key → number of feature rows the encoder produces for each input of that modality, in text order. */
export type ModalityFeatureCounts = Readonly<Record<string, readonly number[]>>;

/**
 * Replaces the k-th token of modality m in `ids` by `counts[m][k]` copies of that token's id, so
 * the sequence has one placeholder position per encoder feature row. A modality missing from
 * `counts` has no inputs in this sample.
 *
 * @param ids - token ids of one sample, with one modality token per input.
 * @param tokenIds - modality key → id of its token (see `Tokenizer.addModalityTokens`).
 * @param counts - modality key → feature rows of each of its inputs in this sample.
 * @param sampleIndex - index of the sample in its batch or data set, used in error messages.
 * @returns the expanded ids.
 * @throws InputError when a modality has more or fewer tokens than inputs, or a count is not a
 *   positive integer.
 */
export function expandModalityTokens(
  ids: readonly number[],
  tokenIds: Readonly<Record<string, number>>,
  counts: ModalityFeatureCounts,
  sampleIndex: number,
): number[] {
  const expanded: number[] = [];
  forEachExpansion(ids, tokenIds, counts, sampleIndex, (position, repeat) => {
    for (let copy = 0; copy < repeat; copy++) expanded.push(ids[position]);
  });
  return expanded;
}

/**
 * Expands the modality tokens of one sample as {@link expandModalityTokens} does, and its labels
 * with them: every placeholder position gets the label -100, whatever the label of its token was.
 *
 * @returns input_ids and, when the sample has them, labels of equal length.
 * @throws InputError as {@link expandModalityTokens}, and when labels and input_ids differ in length.
 */
export function expandSample(
  sample: { input_ids: readonly number[]; labels?: readonly number[] },
  tokenIds: Readonly<Record<string, number>>,
  counts: ModalityFeatureCounts,
  sampleIndex: number,
): { input_ids: number[]; labels?: number[] } {
  const { input_ids: ids, labels } = sample;
  if (labels !== undefined && labels.length !== ids.length) {
    throw new InputError(
      `sample ${sampleIndex}: labels has ${labels.length} entries but input_ids has ${ids.length}; give one label per token`,
    );
  }

  const expandedIds: number[] = [];
  const expandedLabels: number[] = [];
  forEachExpansion(ids, tokenIds, counts, sampleIndex, (position, repeat, isPlaceholder) => {
    for (let copy = 0; copy < repeat; copy++) {
      expandedIds.push(ids[position]);
      if (labels !== undefined) expandedLabels.push(isPlaceholder ? IGNORE_INDEX : labels[position]);
    }
  });
  return labels === undefined ? { input_ids: expandedIds } : { input_ids: expandedIds, labels: expandedLabels };
}

type ExpansionVisitor = (position: number, repeat: number, isPlaceholder: boolean) => void;

/** Checks the token and input counts, then calls `visit` for each position of `ids` in order. */
function forEachExpansion(
  ids: readonly number[],
  tokenIds: Readonly<Record<string, number>>,
  counts: ModalityFeatureCounts,
  sampleIndex: number,
  visit: ExpansionVisitor,
): void {
  const modalityById = invertTokenIds(tokenIds);
  checkCounts(ids, tokenIds, counts, sampleIndex);

  const nextInput = new Map<string, number>();
  ids.forEach((id, position) => {
    const modality = modalityById.get(id);
    if (modality === undefined) {
      visit(position, 1, false);
      return;
    }
    const inputIndex = nextInput.get(modality) ?? 0;
    nextInput.set(modality, inputIndex + 1);
    visit(position, counts[modality][inputIndex], true);
  });
}

function invertTokenIds(tokenIds: Readonly<Record<string, number>>): Map<number, string> {
  const modalityById = new Map<number, string>();
  for (const [modality, id] of Object.entries(tokenIds)) {
    const other = modalityById.get(id);
    if (other !== undefined) {
      throw new ConfigError(
        `${modality}: token id ${id} is also the token id of ${other}; give each modality its own token`,
        modality,
      );
    }
    modalityById.set(id, modality);
  }
  return modalityById;
}

function checkCounts(
  ids: readonly number[],
  tokenIds: Readonly<Record<string, number>>,
  counts: ModalityFeatureCounts,
  sampleIndex: number,
): void {
  for (const modality of Object.keys(counts)) {
    if (!(modality in tokenIds)) {
      throw new InputError(
        `${modality}: sample ${sampleIndex} has feature counts for ${modality} but no token id is given for it; ` +
          `add the token with Tokenizer.addModalityTokens and pass its id`,
      );
    }
  }
  for (const [modality, id] of Object.entries(tokenIds)) {
    const featureCounts = counts[modality] ?? [];
    const tokenCount = ids.filter((tokenId) => tokenId === id).length;
    if (tokenCount !== featureCounts.length) {
      throw new InputError(
        `${modality}: sample ${sampleIndex} has ${tokenCount} ${modality} tokens (id ${id}) in input_ids but ` +
          `${featureCounts.length} ${modality} inputs; put exactly one ${modality} token in the text for each input`,
      );
    }
    const invalid = featureCounts.findIndex((count) => !Number.isInteger(count) || count < 1);
    if (invalid >= 0) {
      throw new InputError(
        `${modality}: sample ${sampleIndex}, input ${invalid} has feature count ${featureCounts[invalid]}; ` +
          `each count must be a positive integer (the encoder's number of feature rows for that input)`,
      );
    }
  }
}
