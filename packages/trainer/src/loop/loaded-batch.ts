import type { MultimodalBatch } from "@mm/core";
import type { BadRecord } from "../data/training-record";

/** A collated micro-batch with the ids of the records in it (for error messages). */
export interface LoadedBatch {
  /** Undefined when every record of the micro-batch was bad and skipped. */
  batch?: MultimodalBatch;
  recordIds: string[];
  /** Records left out of `batch` because they could not be used (with `data.skipBadRecords`). */
  badRecords?: BadRecord[];
}
