import * as tf from "@tensorflow/tfjs";
import { ConfigError, countTrainedTokens, getLogger, MMError, SeededRandom, type MultimodalBatch, type MultimodalModel } from "@mm/core";
import type { TrainingOptions } from "../config/train-config";
import { AdamW } from "../optim/adamw";
import { clipGradNorm } from "../optim/clip-grad-norm";
import { learningRateAt } from "../optim/lr-schedule";
import { accumulateGradients } from "./accumulate";
import { formatStepLine, type StepMetrics } from "./step-log";

const log = getLogger("trainer");

/** A collated micro-batch with the ids of the records it holds (for error messages). */
export interface LoadedBatch {
  batch: MultimodalBatch;
  recordIds: string[];
}

export interface TrainerOptions<R> {
  model: MultimodalModel;
  training: TrainingOptions;
  /** The training records; each step draws batchSize · gradientAccumulation of them. */
  records: R[];
  /** Turns records into a batch of tensors; the trainer disposes the batch after use. */
  collate: (records: R[]) => Promise<LoadedBatch>;
  seed: number;
  /** Called after every optimizer step. */
  onStep?: (metrics: StepMetrics) => void;
}

/** Fails the run: the loss or the gradient norm is NaN or infinite. */
export class NonFiniteLossError extends MMError {}

/**
 * The training loop: seeded shuffling, gradient accumulation over micro-batches with the loss
 * normalised by the trained tokens of the whole step, clipping, AdamW, the schedule, one log line
 * per step. The next step's batches are collated while the current step computes, so image
 * decoding (which sharp runs on worker threads) overlaps the step.
 */
export class Trainer<R> {
  readonly optimizer: AdamW;
  private readonly order: R[] = [];
  private readonly random: SeededRandom;
  private position = 0;

  constructor(private readonly options: TrainerOptions<R>) {
    if (options.records.length === 0) throw new ConfigError("the training set has no records", "data.train");
    this.random = new SeededRandom(options.seed);
    this.optimizer = new AdamW(new Map(options.model.namedParameters()), { weightDecay: options.training.weightDecay });
  }

  /** Runs all steps and returns the per-step metrics. */
  async run(): Promise<StepMetrics[]> {
    const { steps } = this.options.training;
    const history: StepMetrics[] = [];
    let next: Promise<LoadedBatch[]> | undefined = this.loadStep();
    try {
      for (let step = 1; step <= steps; step++) {
        const batches: LoadedBatch[] = await next!;
        next = step < steps ? this.loadStep() : undefined;
        const metrics = this.trainStep(step, batches);
        history.push(metrics);
        if (step % this.options.training.logEvery === 0 || step === steps) log.info(formatStepLine(metrics));
        this.options.onStep?.(metrics);
      }
    } catch (error) {
      // Free the batches that were being prefetched for the step that will not run.
      const pending = await next?.catch(() => []);
      for (const { batch } of pending ?? []) disposeBatch(batch);
      throw error;
    }
    return history;
  }

  private loadStep(): Promise<LoadedBatch[]> {
    const { batchSize, gradientAccumulation } = this.options.training;
    const micro = Array.from({ length: gradientAccumulation }, () => this.nextRecords(batchSize));
    return Promise.all(micro.map((records) => this.options.collate(records)));
  }

  private nextRecords(count: number): R[] {
    const records: R[] = [];
    while (records.length < count) {
      if (this.position >= this.order.length) {
        this.order.splice(0, this.order.length, ...this.random.shuffle([...this.options.records]));
        this.position = 0;
      }
      records.push(this.order[this.position++]);
    }
    return records;
  }

  private trainStep(step: number, batches: LoadedBatch[]): StepMetrics {
    const started = performance.now();
    const { training, model } = this.options;
    const normalizer = batches.reduce((sum, { batch }) => sum + trainedTokens(batch), 0);
    const sum: Record<string, tf.Tensor> = {};
    let loss = 0;
    let tokens = 0;
    try {
      for (const { batch } of batches) {
        const result = model.computeGradients(batch, { lossNormalizer: Math.max(normalizer, 1) });
        loss += result.loss.dataSync()[0];
        result.loss.dispose();
        accumulateGradients(sum, result.grads);
        tokens += batch.attention_mask === undefined ? batch.input_ids.size : tf.tidy(() => tf.sum(batch.attention_mask!).dataSync()[0]);
      }
    } finally {
      for (const { batch } of batches) disposeBatch(batch);
    }
    const { grads, norm } = clipGradNorm(sum, training.maxGradNorm);
    if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
      tf.dispose(Object.values(grads));
      const ids = batches.flatMap((b) => b.recordIds).join(", ");
      throw new NonFiniteLossError(`step ${step}: the loss (${loss}) or gradient norm (${norm}) is not finite for records ${ids}; lower the learning rate or check these records`);
    }
    const learningRate = learningRateAt(step - 1, { name: training.schedule, learningRate: training.learningRate, warmupSteps: training.warmupSteps, totalSteps: training.steps });
    this.optimizer.step(grads, learningRate);
    tf.dispose(Object.values(grads));
    const milliseconds = performance.now() - started;
    return { step, totalSteps: training.steps, loss, learningRate, gradNorm: norm, milliseconds, tokensPerSecond: (tokens * 1000) / milliseconds };
  }
}

function trainedTokens(batch: MultimodalBatch): number {
  if (batch.labels === undefined) return 0;
  const [rows, length] = batch.labels.shape;
  return countTrainedTokens(batch.labels.dataSync() as Int32Array, rows, length);
}

/** Disposes every tensor of a batch. */
export function disposeBatch(batch: MultimodalBatch): void {
  const tensors: tf.Tensor[] = [batch.input_ids];
  if (batch.attention_mask !== undefined) tensors.push(batch.attention_mask);
  if (batch.labels !== undefined) tensors.push(batch.labels);
  for (const entry of Object.values(batch.encoderInputs ?? {})) tensors.push(...Object.values(entry.inputs));
  tf.dispose(tensors);
}
