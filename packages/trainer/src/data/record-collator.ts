import { countTrainedTokens, InputError, ModalityMismatchError, type MultimodalBatch } from "@mm/core";
import type { MultimodalProcessor } from "@mm/processor";
import type { LoadedBatch } from "../loop/loaded-batch";
import { disposeBatch } from "../loop/dispose-batch";
import { mergeBatches } from "./merge-batches";
import type { BadRecord, TrainingRecord } from "./training-record";

/** Options of {@link recordCollator}. */
export interface RecordCollatorOptions {
  /** Truncates each record to this many tokens (after the modality tokens are expanded). */
  maxLength?: number;
  /** Drops records that cannot be used and reports them in `LoadedBatch.badRecords` instead of throwing. */
  skipBadRecords?: boolean;
  /** The encoder that receives a record's `images` (default "vision"). */
  imageModality?: string;
  /** The encoder that receives a record's `audios` (default "audio"). */
  audioModality?: string;
}

/**
 * Builds batches from training records with the processor. Each record is processed on its own,
 * so the error for a bad one names it: missing or corrupt media, placeholder tokens that do not
 * match its inputs, or no supervised token left after truncation. With `skipBadRecords`, a bad
 * record is left out instead, and the good records are merged into one batch.
 */
export function recordCollator(processor: MultimodalProcessor, options: RecordCollatorOptions = {}) {
  const padding = { padTokenId: processor.tokenizer.padTokenId ?? 0, paddingSide: processor.tokenizer.paddingSide };
  return async (records: TrainingRecord[]): Promise<LoadedBatch> => {
    const settled = await Promise.allSettled(records.map((record) => processRecord(processor, record, options)));
    const failure = settled.find((result) => result.status === "rejected" && !(options.skipBadRecords && isRecordProblem(result.reason)));
    const processed = settled.flatMap((result, i) => (result.status === "fulfilled" ? [{ record: records[i], batch: result.value }] : []));
    if (failure !== undefined) {
      for (const { batch } of processed) disposeBatch(batch);
      throw nameRecord((failure as PromiseRejectedResult).reason, records[settled.indexOf(failure)]);
    }
    const badRecords: BadRecord[] = settled.flatMap((result, i) =>
      result.status === "rejected" ? [{ id: records[i].id, file: records[i].file, reason: (result.reason as Error).message }] : [],
    );
    if (processed.length === 0) return { recordIds: [], badRecords };
    const batch = mergeBatches(processed.map((entry) => entry.batch), padding);
    for (const entry of processed) disposeBatch(entry.batch);
    return { batch, recordIds: processed.map((entry) => entry.record.id), badRecords };
  };
}

async function processRecord(processor: MultimodalProcessor, record: TrainingRecord, options: RecordCollatorOptions): Promise<MultimodalBatch> {
  const inputs: Record<string, unknown[]> = {};
  if (record.images.length > 0) inputs[options.imageModality ?? "vision"] = record.images;
  if (record.audios.length > 0) inputs[options.audioModality ?? "audio"] = record.audios;
  const batch = await processor.processConversations([{ conversations: record.conversations, inputs }], { maxLength: options.maxLength });
  const [rows, length] = batch.labels!.shape;
  if (countTrainedTokens(batch.labels!.dataSync() as Int32Array, rows, length) === 0) {
    disposeBatch(batch);
    const hasReply = record.conversations.some((turn) => turn.from === "gpt");
    const message =
      hasReply && options.maxLength !== undefined
        ? `no supervised token left after truncation to data.maxLength ${options.maxLength}; raise data.maxLength or shorten the prompt so the assistant reply fits`
        : "the conversation has no supervised token; give it an assistant reply";
    throw new InputError(message, record.file);
  }
  return batch;
}

/** Errors that make one record unusable, as opposed to problems of the config or the code. */
function isRecordProblem(error: unknown): boolean {
  return error instanceof InputError || error instanceof ModalityMismatchError;
}

function nameRecord(error: unknown, record: TrainingRecord): unknown {
  if (!isRecordProblem(error)) return error;
  return new InputError(`${(error as Error).message} (record "${record.id}" in ${record.file})`, record.file);
}
