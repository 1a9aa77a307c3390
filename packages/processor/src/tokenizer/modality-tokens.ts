import { ConfigError } from "@mm/core";
import type { AddedTokenEntry, TokenizerJson } from "./tokenizer-files";

/**
 * The modality tokens to add: a map from modality key to token text, or a list of modality keys
 * whose tokens default to `<key>` (for example `<vision>`). An undefined map value also takes the default.
 */
export type ModalityTokenRequest = readonly string[] | Readonly<Record<string, string | undefined>>;

/** Returns the default token text of a modality: the key in angle brackets, e.g. `<vision>`. */
export function defaultModalityToken(modality: string): string {
  return `<${modality}>`;
}

/**
 * Turns a request into [modality, token text] pairs in request order.
 *
 * @param reservedTokens - token texts no modality may use (BOS, EOS, pad, unk).
 * @param assignedTokens - token text → modality, for tokens registered by earlier calls.
 * @throws ConfigError on an empty modality key or token text, on two modalities with the same
 *   token, or on a reserved token.
 */
export function resolveModalityTokens(
  request: ModalityTokenRequest,
  reservedTokens: ReadonlySet<string>,
  assignedTokens: ReadonlyMap<string, string>,
): Array<[string, string]> {
  const pairs: Array<[string, string]> = Array.isArray(request)
    ? request.map((modality) => [modality, defaultModalityToken(modality)])
    : Object.entries(request).map(([modality, token]) => [modality, token ?? defaultModalityToken(modality)]);

  const modalityByToken = new Map(assignedTokens);
  for (const [modality, token] of pairs) {
    if (modality === "") throw new ConfigError("modality tokens: a modality key is empty", "modality");
    if (token === "") throw new ConfigError(`${modality}: the modality token text is empty`, modality);
    if (reservedTokens.has(token)) {
      throw new ConfigError(
        `${modality}: token ${JSON.stringify(token)} is already the tokenizer's BOS, EOS, pad or unk token; choose another text`,
        modality,
      );
    }
    const other = modalityByToken.get(token);
    if (other !== undefined && other !== modality) {
      throw new ConfigError(
        `${modality}: token ${JSON.stringify(token)} is already the token of ${other}; give each modality its own token`,
        modality,
      );
    }
    modalityByToken.set(token, modality);
  }
  return pairs;
}

/**
 * Registers each modality token in `tokenizerJson.added_tokens` as a special, non-normalised
 * added token, so the tokenizer splits it out of the raw text before normalisation and it always
 * encodes to one id. A token that is already an added token keeps its id, and its entry gets the
 * flags above. A new token gets the next free id, counting up from `nextFreeId`.
 *
 * @param lookupId - returns the current id of a token text, or undefined when it is not in the vocabulary.
 * @returns modality key → token id.
 * @throws ConfigError when a token is a regular entry of the model vocabulary, because plain text
 *   can encode to it too, and those ids would be taken for placeholders.
 */
export function registerModalityTokens(
  tokenizerJson: TokenizerJson,
  pairs: ReadonlyArray<[string, string]>,
  lookupId: (token: string) => number | undefined,
  nextFreeId: number,
): Record<string, number> {
  const ids: Record<string, number> = {};
  let freeId = nextFreeId;

  for (const [modality, token] of pairs) {
    const existingId = lookupId(token);
    const index = tokenizerJson.added_tokens.findIndex((added) => added.content === token);
    if (existingId !== undefined && index < 0) {
      throw new ConfigError(
        `${modality}: token ${JSON.stringify(token)} is a regular vocabulary entry (id ${existingId}) that plain text ` +
          `can also encode to; choose a text outside the vocabulary, such as <${modality}>`,
        modality,
      );
    }

    const id = existingId ?? freeId++;
    const entry = modalityTokenEntry(id, token);
    if (index >= 0) tokenizerJson.added_tokens[index] = entry;
    else tokenizerJson.added_tokens.push(entry);
    ids[modality] = id;
  }
  return ids;
}

function modalityTokenEntry(id: number, content: string): AddedTokenEntry {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}
