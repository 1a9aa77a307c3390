import type { SeededRandom } from "@mm/core";
import type { ResolvedGenerationOptions } from "./generation-options";
import { applyRepetitionPenalty, applyTemperature, applyTopK, applyTopP, finiteIdsByScore, softmaxOf } from "./logits-processors";

/** Returns the id of the highest score; the lowest such id on ties. */
export function argmax(scores: Float32Array): number {
  let best = 0;
  for (let id = 1; id < scores.length; id++) {
    if (scores[id] > scores[best]) best = id;
  }
  return best;
}

/**
 * Draws a token id with probability softmax(scores), one `random.next()` per call, so a seed
 * repeats the draws. -Infinity scores are never drawn.
 */
export function sampleFromScores(scores: Float32Array, random: SeededRandom): number {
  const ids = finiteIdsByScore(scores);
  const probabilities = softmaxOf(scores, ids);
  const target = random.next();
  let cumulative = 0;
  for (let rank = 0; rank < ids.length; rank++) {
    cumulative += probabilities[rank];
    if (target < cumulative) return ids[rank];
  }
  return ids[ids.length - 1]; // rounding left the sum just under target
}

/**
 * Turns one row's logits into scores in transformers 4.40's order: the repetition penalty, then,
 * when sampling, temperature, top-k and top-p. Returns a new array; `logits` is not changed.
 * logits: V values; present: V flags of the ids already in the row.
 */
export function processScores(logits: Float32Array, present: Uint8Array, options: ResolvedGenerationOptions): Float32Array {
  const scores = Float32Array.from(logits);
  applyRepetitionPenalty(scores, present, options.repetitionPenalty);
  if (!options.doSample) return scores;
  applyTemperature(scores, options.temperature);
  applyTopK(scores, options.topK);
  applyTopP(scores, options.topP);
  return scores;
}

/** Picks the next token of a row from its processed scores: argmax, or a draw when do_sample is set. */
export function chooseToken(scores: Float32Array, options: ResolvedGenerationOptions): number {
  return options.doSample ? sampleFromScores(scores, options.random) : argmax(scores);
}
