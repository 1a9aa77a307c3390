import * as tf from "@tensorflow/tfjs";
import type { MultimodalModel } from "@mm/core";
import { disposeBatch } from "./dispose-batch";
import type { LoadedBatch } from "./loaded-batch";
import { trainedTokens } from "./train-step";

/** The result of one evaluation on the held-out records. */
export interface EvalMetrics {
  /** The optimizer step after which the evaluation ran. */
  step: number;
  /** Mean cross-entropy over every trained token of the held-out records. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Trained tokens the mean is taken over. */
  tokens: number;
  /** Held-out records evaluated (bad records skipped with `data.skipBadRecords` are not counted). */
  records: number;
}

/**
 * Computes the loss over held-out records, batch by batch without gradients: each batch's summed
 * token losses are added up and divided by the total trained tokens, so the result does not
 * depend on the batch size. Runs the model in eval mode and restores its train modes.
 */
export async function evaluate<R>(
  model: MultimodalModel,
  records: R[],
  collate: (records: R[]) => Promise<LoadedBatch>,
  batchSize: number,
  step: number,
): Promise<EvalMetrics> {
  const modes = model.trainModes();
  model.eval();
  let summedLoss = 0;
  let tokens = 0;
  let evaluated = 0;
  try {
    for (let start = 0; start < records.length; start += batchSize) {
      const { batch, recordIds } = await collate(records.slice(start, start + batchSize));
      if (batch === undefined) continue;
      try {
        summedLoss += summedTokenLoss(model, batch);
        tokens += trainedTokens(batch);
        evaluated += recordIds.length;
      } finally {
        disposeBatch(batch);
      }
    }
  } finally {
    model.train(modes);
  }
  const loss = summedLoss / Math.max(tokens, 1);
  return { step, loss, perplexity: Math.exp(loss), tokens, records: evaluated };
}

function summedTokenLoss(model: MultimodalModel, batch: Parameters<MultimodalModel["forward"]>[0]): number {
  return tf.tidy(() => {
    const { loss, logits } = model.forward(batch, { lossNormalizer: 1 });
    logits.dispose();
    return loss!.dataSync()[0];
  });
}
