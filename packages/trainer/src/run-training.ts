import { join } from "node:path";
import { getLogger, initBackend, manualSeed, type MultimodalModel } from "@mm/core";
import type { MultimodalProcessor } from "@mm/processor";
import { CheckpointManager } from "./checkpoint/checkpoint-manager";
import type { TrainConfig } from "./config/train-config";
import { recordCollator } from "./data/record-collator";
import type { BadRecord, TrainingRecord } from "./data/training-record";
import type { EvalMetrics } from "./loop/evaluate";
import type { StepMetrics } from "./loop/step-log";
import { Trainer } from "./loop/trainer";
import { buildTrainingSetup } from "./model/build-model";
import { trainModesFor } from "./model/trainable";
import { createProgressReporter, type ProgressMode } from "./report/create-progress-reporter";
import { MetricsFile } from "./report/metrics-file";
import { findResumeCheckpoint, removeEarlierRun, reportSkipped } from "./run/run-lifecycle";
import { checkModalities, readTrainingData, type TrainingData } from "./run/training-data";
import { writeTrainedModel } from "./run/write-outputs";

const log = getLogger("trainer");

/** Options of {@link runTraining}. */
export interface RunTrainingOptions {
  /** Continues from the newest complete checkpoint under `<output>/checkpoints` instead of starting over. */
  resume?: boolean;
  /** Progress display (default "auto": a bar on a terminal, log lines otherwise). */
  progress?: ProgressMode;
}

export interface TrainingResult {
  /** Metrics of every step, including those before the checkpoint a resumed run started from. */
  history: StepMetrics[];
  evalHistory: EvalMetrics[];
  outputDirectory: string;
  /** Wall-clock seconds of this call. */
  seconds: number;
  /** Steps that made no update (non-finite loss or no usable record). */
  skippedSteps: number;
  /** Records skipped with `data.skipBadRecords`. */
  badRecords: BadRecord[];
  /** The checkpoint a resumed run started from. */
  resumedFrom?: string;
}

/**
 * Runs a whole `mm train` job: backend, seeded model and processor, datasets, the training loop
 * with checkpoints under `<output>/checkpoints` and metrics in `<output>/metrics.jsonl`, then the
 * trained modules in Hugging Face format and `loss.svg` in `config.output`. Without `resume`,
 * the checkpoints of an earlier run in the same output folder are deleted first.
 */
export async function runTraining(config: TrainConfig, options: RunTrainingOptions = {}): Promise<TrainingResult> {
  const started = performance.now();
  const checkpoints = new CheckpointManager(join(config.output, "checkpoints"), config.training.keepCheckpoints);
  const resumedFrom = options.resume ? findResumeCheckpoint(checkpoints) : undefined;
  const backend = await initBackend(config.backend);
  manualSeed(config.seed);
  const data = readTrainingData(config);
  const { model, processor } = await buildTrainingSetup(config);
  let trainer: Trainer<TrainingRecord> | undefined;
  try {
    checkModalities(data, model.modalities);
    model.train(trainModesFor(config.trainable, model));
    const trainable = model.trainableParameters().reduce((sum, v) => sum + v.size, 0);
    const threads = backend.wasm === undefined ? "" : ` (${backend.wasm.threads} thread${backend.wasm.threads === 1 ? "" : "s"})`;
    log.info(`backend ${backend.backend}${threads}; ${data.train.length} training and ${data.evaluation.length} held-out records; ${model.numParameters()} parameters, ${trainable} trainable`);

    if (resumedFrom === undefined) removeEarlierRun(checkpoints);
    const metrics = new MetricsFile(join(config.output, "metrics.jsonl"));
    trainer = createTrainer(config, model, processor, data, { checkpoints, metrics, progress: options.progress ?? "auto" });
    if (resumedFrom !== undefined) {
      trainer.resumeFrom(resumedFrom);
      log.info(`resuming from ${resumedFrom} after step ${trainer.step} of ${config.training.steps}`);
    }
    metrics.rewrite(trainer.stepHistory, trainer.evaluations);

    const history = await trainer.run();
    await writeTrainedModel(config.output, model, processor, history, trainer.evaluations, config.model.encoders);
    const badRecords = trainer.skippedRecords();
    reportSkipped(trainer.skipped, badRecords);
    const seconds = (performance.now() - started) / 1000;
    log.info(`saved the trained modules to ${config.output} (${seconds.toFixed(1)} s)`);
    return { history, evalHistory: trainer.evaluations, outputDirectory: config.output, seconds, skippedSteps: trainer.skipped, badRecords, resumedFrom };
  } finally {
    trainer?.optimizer.dispose();
    model.dispose();
  }
}

function createTrainer(
  config: TrainConfig,
  model: MultimodalModel,
  processor: MultimodalProcessor,
  data: TrainingData,
  run: { checkpoints: CheckpointManager; metrics: MetricsFile; progress: ProgressMode },
): Trainer<TrainingRecord> {
  return new Trainer({
    model,
    training: config.training,
    records: data.train,
    evalRecords: data.evaluation,
    collate: recordCollator(processor, { maxLength: config.data.maxLength, skipBadRecords: config.data.skipBadRecords }),
    seed: config.seed,
    badRecords: data.badRecords,
    checkpoints: run.checkpoints,
    progress: createProgressReporter(run.progress, { logEvery: config.training.logEvery }),
    onStep: (metrics) => run.metrics.appendStep(metrics),
    onEval: (metrics) => run.metrics.appendEval(metrics),
  });
}
