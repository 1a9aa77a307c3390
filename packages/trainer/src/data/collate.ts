import type { MultimodalProcessor } from "@mm/processor";
import type { LoadedBatch } from "../loop/trainer";
import type { TrainingRecord } from "./llava-dataset";

/** Builds a batch from LLaVA records with the processor; images go to the "vision" encoder. */
export function llavaCollator(processor: MultimodalProcessor, options: { maxLength?: number; imageModality?: string } = {}) {
  const modality = options.imageModality ?? "vision";
  return async (records: TrainingRecord[]): Promise<LoadedBatch> => {
    const samples = records.map((record) => ({ conversations: record.conversations, inputs: { [modality]: record.images } }));
    const batch = await processor.processConversations(samples, { maxLength: options.maxLength });
    return { batch, recordIds: records.map((record) => record.id) };
  };
}
