import { ConfigError, SeededRandom } from "@mm/core";

/**
 * Holds out `fraction` of the records (at least one) for evaluation. The held-out records are
 * the first ones of a Fisher-Yates shuffle seeded with `seed`, so the same seed and records give
 * the same split in every run, resumed ones included. Both parts keep the file order.
 *
 * @throws ConfigError when the split would leave no training record.
 */
export function splitForEval<R>(records: R[], fraction: number, seed: number): { train: R[]; evaluation: R[] } {
  const count = Math.max(1, Math.round(records.length * fraction));
  if (count >= records.length) {
    throw new ConfigError(
      `data.evalFraction ${fraction} of ${records.length} records holds out ${count} and leaves no training record; lower it or add records`,
      "data.evalFraction",
    );
  }
  const order = new SeededRandom(seed).shuffle(records.map((_, i) => i));
  const heldOut = new Set(order.slice(0, count));
  return { train: records.filter((_, i) => !heldOut.has(i)), evaluation: records.filter((_, i) => heldOut.has(i)) };
}
