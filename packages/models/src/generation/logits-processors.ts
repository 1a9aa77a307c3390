/**
 * The score transforms of transformers 4.40's generate(), on one row of V scores in place.
 * Filtered tokens get -Infinity, as transformers' filter_value, so softmax gives them 0.
 */

/**
 * Makes the ids already present less likely, by transformers' RepetitionPenaltyLogitsProcessor
 * rule: a positive score is divided by `penalty`, a negative one multiplied by it.
 * present: V flags, non-zero where the token id already occurs in the row.
 */
export function applyRepetitionPenalty(scores: Float32Array, present: Uint8Array, penalty: number): void {
  if (penalty === 1) return;
  for (let id = 0; id < scores.length; id++) {
    if (present[id] === 0) continue;
    scores[id] = scores[id] < 0 ? scores[id] * penalty : scores[id] / penalty;
  }
}

/** Divides every score by `temperature` (transformers' TemperatureLogitsWarper). */
export function applyTemperature(scores: Float32Array, temperature: number): void {
  if (temperature === 1) return;
  for (let id = 0; id < scores.length; id++) scores[id] /= temperature;
}

/**
 * Keeps the k highest scores and sets the rest to -Infinity (transformers' TopKLogitsWarper).
 * Scores tied with the k-th highest are kept too, so more than k tokens can remain.
 * k = 0 or k >= V keeps every score.
 */
export function applyTopK(scores: Float32Array, k: number): void {
  if (k === 0 || k >= scores.length) return;
  const ascending = Float32Array.from(scores).sort();
  const threshold = ascending[scores.length - k];
  for (let id = 0; id < scores.length; id++) {
    if (scores[id] < threshold) scores[id] = -Infinity;
  }
}

/**
 * Keeps the smallest set of highest-scoring tokens whose probabilities sum to at least `p` and
 * sets the rest to -Infinity (transformers' TopPLogitsWarper). The token whose probability
 * crosses p is kept, and so is the top token whatever p is. Ties are ordered by token id.
 * p = 1 keeps every score.
 */
export function applyTopP(scores: Float32Array, p: number): void {
  if (p >= 1) return;
  const candidates = finiteIdsByScore(scores);
  const probabilities = softmaxOf(scores, candidates);
  let before = 0; // probability of the tokens ranked above the current one
  candidates.forEach((id, rank) => {
    if (rank > 0 && before >= p) scores[id] = -Infinity;
    before += probabilities[rank];
  });
}

/** Ids with a finite score, highest score first, ties by ascending id. */
export function finiteIdsByScore(scores: Float32Array): number[] {
  const ids: number[] = [];
  for (let id = 0; id < scores.length; id++) {
    if (Number.isFinite(scores[id])) ids.push(id);
  }
  return ids.sort((a, b) => scores[b] - scores[a] || a - b);
}

/** Softmax, in double precision, over the scores of `ids`; returns one probability per id. */
export function softmaxOf(scores: Float32Array, ids: number[]): Float64Array {
  let max = -Infinity;
  for (const id of ids) max = Math.max(max, scores[id]);
  const probabilities = Float64Array.from(ids, (id) => Math.exp(scores[id] - max));
  const total = probabilities.reduce((sum, value) => sum + value, 0);
  return probabilities.map((value) => value / total);
}
