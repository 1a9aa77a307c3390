import * as tf from "@tensorflow/tfjs";
import { ConfigError, getLogger, globalRandom, type MultimodalModel } from "@mm/core";
import type { CheckpointManager } from "../checkpoint/checkpoint-manager";
import { loadCheckpoint } from "../checkpoint/load-checkpoint";
import type { TrainerState } from "../checkpoint/trainer-state";
import type { TrainingOptions } from "../config/training-schema";
import type { BadRecord } from "../data/training-record";
import { createOptimizer } from "../optim/create-optimizer";
import { learningRateAt } from "../optim/lr-schedule";
import type { Optimizer } from "../optim/optimizer";
import { LogLineReporter, type ProgressReporter } from "../report/progress-reporter";
import { DataCursor, type DataCursorState } from "./data-cursor";
import { disposeBatch } from "./dispose-batch";
import { evaluate, type EvalMetrics } from "./evaluate";
import type { LoadedBatch } from "./loaded-batch";
import { NonFiniteLossError } from "./non-finite";
import { checkResumable } from "./resume-checks";
import type { StepMetrics } from "./step-log";
import { computeStepGradients } from "./train-step";

const log = getLogger("trainer");

export interface TrainerOptions<R> {
  model: MultimodalModel;
  training: TrainingOptions;
  /** The training records; each step draws batchSize · gradientAccumulation of them. */
  records: R[];
  /** Turns records into a batch of tensors; the trainer disposes the batch after use. */
  collate: (records: R[]) => Promise<LoadedBatch>;
  /** Seeds the shuffling of `records`. */
  seed: number;
  /** Held-out records, evaluated every `training.evalEvery` steps and after the last step. */
  evalRecords?: R[];
  /** The checkpoint writer, used every `training.saveEvery` steps and after the last step. Without it, no checkpoints are written. */
  checkpoints?: CheckpointManager;
  /** Shows progress; default: a log line every `training.logEvery` steps. */
  progress?: ProgressReporter;
  /** Records already skipped while reading the datasets; they are reported and saved with the others. */
  badRecords?: BadRecord[];
  /** Called after every optimizer step, before its evaluation and checkpoint. */
  onStep?: (metrics: StepMetrics) => void;
  /** Called after every evaluation. */
  onEval?: (metrics: EvalMetrics) => void;
}

/**
 * The training loop: seeded shuffling, gradient accumulation over micro-batches with the loss
 * normalised by the trained tokens of the whole step, clipping, the optimizer, the schedule,
 * periodic evaluation and checkpoints. The next step's batches are collated while the current
 * step computes, so image decoding (which sharp runs on worker threads) overlaps the step.
 * A run restored from a checkpoint (`resumeFrom`) continues with the same records, random state
 * and optimizer state, so it ends with the weights of a run that was never interrupted (bit for
 * bit on the WASM backend, as the resume tests check).
 */
export class Trainer<R> {
  readonly optimizer: Optimizer;
  private readonly cursor: DataCursor;
  private readonly progress: ProgressReporter;
  private completedSteps = 0;
  private history: StepMetrics[] = [];
  private evalHistory: EvalMetrics[] = [];
  private skippedSteps = 0;
  private readonly badRecords = new Map<string, BadRecord>();
  private lastCheckpoint: string | undefined;

  constructor(private readonly options: TrainerOptions<R>) {
    if (options.records.length === 0) throw new ConfigError("the training set has no records", "data.train");
    this.cursor = new DataCursor(options.records.length, options.seed);
    this.optimizer = createOptimizer(new Map(options.model.namedParameters()), options.training);
    this.progress = options.progress ?? new LogLineReporter(options.training.logEvery);
    for (const record of options.badRecords ?? []) this.badRecords.set(recordKey(record), record);
  }

  /** The last completed optimizer step (the checkpoint's step after `resumeFrom`). */
  get step(): number {
    return this.completedSteps;
  }

  /** Steps that made no update: non-finite loss with `training.skipNonFinite`, or no usable record. */
  get skipped(): number {
    return this.skippedSteps;
  }

  /** Metrics of the steps so far, including those restored from a checkpoint. */
  get stepHistory(): StepMetrics[] {
    return [...this.history];
  }

  /** Evaluations so far, including those restored from a checkpoint. */
  get evaluations(): EvalMetrics[] {
    return [...this.evalHistory];
  }

  /** Records skipped as unusable so far, each listed once. */
  skippedRecords(): BadRecord[] {
    return [...this.badRecords.values()];
  }

  /** Loads a checkpoint folder into the model and optimizer and continues after its step. */
  resumeFrom(directory: string): void {
    this.restore(loadCheckpoint(directory, this.options.model, this.optimizer));
    this.lastCheckpoint = directory;
  }

  /** Restores the loop's state (step, data position, random state, histories) from a checkpoint. */
  restore(state: TrainerState): void {
    checkResumable(state, this.options.training, this.options.records.length);
    this.completedSteps = state.step;
    this.history = [...state.history];
    this.evalHistory = [...state.evalHistory];
    this.skippedSteps = state.skippedSteps;
    for (const record of state.badRecords) this.badRecords.set(recordKey(record), record);
    this.cursor.setState(state.data);
    globalRandom.setState(state.globalRandom);
  }

  /** Runs the remaining steps and returns the metrics of every step, restored ones included. */
  async run(): Promise<StepMetrics[]> {
    const { steps } = this.options.training;
    let next = this.completedSteps < steps ? this.loadStep() : undefined;
    this.progress.start(this.completedSteps);
    try {
      while (this.completedSteps < steps) {
        const batches = await next!;
        const cursorAfterStep = this.cursor.getState();
        const step = this.completedSteps + 1;
        next = step < steps ? this.loadStep() : undefined;
        this.noteBadRecords(batches);
        const metrics = this.trainStep(step, batches);
        this.completedSteps = step;
        this.history.push(metrics);
        this.progress.onStep(metrics);
        this.options.onStep?.(metrics);
        await this.evaluateIfDue(step);
        await this.checkpointIfDue(step, cursorAfterStep);
      }
    } catch (error) {
      // Free the batches that were being prefetched for the step that will not run.
      const pending = await next?.catch(() => []);
      for (const { batch } of pending ?? []) if (batch !== undefined) disposeBatch(batch);
      throw error;
    } finally {
      this.progress.finish();
    }
    return [...this.history];
  }

  private loadStep(): Promise<LoadedBatch[]> {
    const { batchSize, gradientAccumulation } = this.options.training;
    const micro = Array.from({ length: gradientAccumulation }, () => this.cursor.next(batchSize).map((i) => this.options.records[i]));
    const loading = collateAll(micro.map((records) => this.options.collate(records)));
    // The step awaits this later; until then, a failure must not count as an unhandled rejection.
    loading.catch(() => undefined);
    return loading;
  }

  private trainStep(step: number, batches: LoadedBatch[]): StepMetrics {
    const started = performance.now();
    const { training, model } = this.options;
    const learningRate = learningRateAt(step - 1, { name: training.schedule, learningRate: training.learningRate, warmupSteps: training.warmupSteps, totalSteps: training.steps });
    const base = { step, totalSteps: training.steps, learningRate };
    const recordIds = batches.flatMap((b) => b.recordIds);
    if (recordIds.length === 0) {
      log.warn(`step ${step}: skipped, every record drawn for it was bad`);
      return this.skip({ ...base, loss: Number.NaN, gradNorm: Number.NaN, milliseconds: 0, tokensPerSecond: 0 }, "no usable records");
    }

    const { grads, loss, gradNorm, tokens } = computeStepGradients(model, batches, training.maxGradNorm);
    const finite = Number.isFinite(loss) && Number.isFinite(gradNorm);
    if (finite) this.optimizer.step(grads, learningRate);
    tf.dispose(Object.values(grads));
    const milliseconds = performance.now() - started;
    const metrics = { ...base, loss, gradNorm, milliseconds, tokensPerSecond: (tokens * 1000) / milliseconds };
    if (finite) return metrics;
    if (!training.skipNonFinite) throw new NonFiniteLossError(step, recordIds, loss, gradNorm, this.lastCheckpoint);
    log.warn(`step ${step}: skipped, the loss (${loss}) or gradient norm (${gradNorm}) is not finite for records ${recordIds.join(", ")}`);
    return this.skip(metrics, "non-finite loss");
  }

  private skip(metrics: StepMetrics, reason: string): StepMetrics {
    this.skippedSteps += 1;
    return { ...metrics, skipped: reason };
  }

  private noteBadRecords(batches: LoadedBatch[]): void {
    for (const record of batches.flatMap((b) => b.badRecords ?? [])) {
      if (this.badRecords.has(recordKey(record))) continue;
      this.badRecords.set(recordKey(record), record);
      log.warn(`skipped record "${record.id}" in ${record.file}: ${record.reason}`);
    }
  }

  private async evaluateIfDue(step: number): Promise<void> {
    const { evalRecords = [], training, model, collate } = this.options;
    const due = (training.evalEvery !== undefined && step % training.evalEvery === 0) || step === training.steps;
    if (evalRecords.length === 0 || !due) return;
    const metrics = await evaluate(model, evalRecords, collate, training.batchSize, step);
    this.evalHistory.push(metrics);
    this.progress.onEval(metrics);
    this.options.onEval?.(metrics);
  }

  private async checkpointIfDue(step: number, cursor: DataCursorState): Promise<void> {
    const { checkpoints, training } = this.options;
    const due = (training.saveEvery !== undefined && step % training.saveEvery === 0) || step === training.steps;
    if (checkpoints === undefined || !due) return;
    this.lastCheckpoint = await checkpoints.save(this.options.model, this.optimizer, this.snapshot(step, cursor));
    log.debug(`step ${step}: saved checkpoint ${this.lastCheckpoint}`);
  }

  private snapshot(step: number, cursor: DataCursorState): TrainerState {
    const { training, seed, records } = this.options;
    return {
      formatVersion: 1,
      step,
      totalSteps: training.steps,
      seed,
      optimizer: { name: this.optimizer.name, stepCount: this.optimizer.stepCount, hyperparameters: this.optimizer.hyperparameters() },
      schedule: { name: training.schedule, learningRate: training.learningRate, warmupSteps: training.warmupSteps, totalSteps: training.steps },
      globalRandom: globalRandom.getState(),
      data: { recordCount: records.length, ...cursor },
      history: [...this.history],
      evalHistory: [...this.evalHistory],
      skippedSteps: this.skippedSteps,
      badRecords: this.skippedRecords(),
    };
  }
}

/** Waits for every micro-batch; when one fails, disposes the others and rethrows its error. */
async function collateAll(loading: Array<Promise<LoadedBatch>>): Promise<LoadedBatch[]> {
  const settled = await Promise.allSettled(loading);
  const failure = settled.find((result) => result.status === "rejected");
  if (failure === undefined) return settled.map((result) => (result as PromiseFulfilledResult<LoadedBatch>).value);
  for (const result of settled) {
    if (result.status === "fulfilled" && result.value.batch !== undefined) disposeBatch(result.value.batch);
  }
  throw (failure as PromiseRejectedResult).reason;
}

function recordKey(record: BadRecord): string {
  return `${record.file}\u0000${record.id}`;
}
