import { MMError } from "@mm/core";

/** Fails the run: the loss or the gradient norm is NaN or infinite. */
export class NonFiniteLossError extends MMError {
  constructor(
    readonly step: number,
    readonly recordIds: string[],
    loss: number,
    gradNorm: number,
    /** The newest checkpoint written before this step, if any. */
    readonly lastCheckpoint: string | undefined,
  ) {
    const resume =
      lastCheckpoint === undefined
        ? "no checkpoint has been written yet"
        : `the last good checkpoint is ${lastCheckpoint} (continue from it with mm train CONFIG --resume)`;
    super(
      `step ${step}: the loss (${loss}) or gradient norm (${gradNorm}) is not finite for records ${recordIds.join(", ")}; ` +
        `lower the learning rate or check these records, or set training.skipNonFinite to skip such steps; ${resume}`,
    );
  }
}
