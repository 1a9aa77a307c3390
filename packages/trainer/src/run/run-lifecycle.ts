import { getLogger, InputError } from "@mm/core";
import type { CheckpointManager } from "../checkpoint/checkpoint-manager";
import type { BadRecord } from "../data/training-record";

const log = getLogger("trainer");

/** Bad records listed one per line at the end of a run; the rest are only counted. */
const LISTED_BAD_RECORDS = 20;

/**
 * Returns the newest complete checkpoint to resume from, after deleting the leftovers of an
 * interrupted write. Throws an InputError when there is none.
 */
export function findResumeCheckpoint(checkpoints: CheckpointManager): string {
  checkpoints.removeIncomplete();
  const latest = checkpoints.latest();
  if (latest === undefined) {
    throw new InputError(`--resume: no complete checkpoint in ${checkpoints.directory}; run without --resume to start a new run`, checkpoints.directory);
  }
  return latest;
}

/** Deletes the checkpoints of an earlier run, so they cannot be mistaken for the new run's. */
export function removeEarlierRun(checkpoints: CheckpointManager): void {
  const removed = checkpoints.removeAll();
  if (removed > 0) log.warn(`deleted ${removed} checkpoint(s) of an earlier run in ${checkpoints.directory}; pass --resume to continue a run instead`);
}

/** Logs how many steps were skipped and lists the bad records that were skipped. */
export function reportSkipped(skippedSteps: number, badRecords: BadRecord[]): void {
  if (skippedSteps > 0) log.warn(`skipped ${skippedSteps} step(s) without an update (non-finite loss or no usable record)`);
  if (badRecords.length === 0) return;
  log.warn(`skipped ${badRecords.length} bad record(s):`);
  for (const record of badRecords.slice(0, LISTED_BAD_RECORDS)) log.warn(`  "${record.id}" in ${record.file}: ${record.reason}`);
  const more = badRecords.length - LISTED_BAD_RECORDS;
  if (more > 0) log.warn(`  and ${more} more (all are listed in the final checkpoint's trainer_state.json)`);
}
