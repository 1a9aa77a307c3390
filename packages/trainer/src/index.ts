export { trainConfigSchema } from "./config/train-config";
export type { TrainConfig, TrainingOptions, DataOptions, EncoderSpec, ModelSource, TrainableSpec } from "./config/train-config";
export { trainingSchema } from "./config/training-schema";
export type { TrainingInput } from "./config/training-schema";
export { dataSchema } from "./config/data-schema";
export { loadTrainConfig, parseTrainConfig } from "./config/load-config";

export { AdamW } from "./optim/adamw";
export type { AdamWOptions } from "./optim/adamw";
export { SGD } from "./optim/sgd";
export type { SGDOptions } from "./optim/sgd";
export { createOptimizer } from "./optim/create-optimizer";
export { decayMatricesOnly } from "./optim/optimizer";
export type { Optimizer, OptimizerName, DecayRule } from "./optim/optimizer";
export { learningRateAt } from "./optim/lr-schedule";
export type { ScheduleName, ScheduleOptions } from "./optim/lr-schedule";
export { clipGradNorm } from "./optim/clip-grad-norm";

export { readDataset } from "./data/read-dataset";
export type { ReadDatasetOptions } from "./data/read-dataset";
export type { TrainingRecord, BadRecord } from "./data/training-record";
export { recordCollator } from "./data/record-collator";
export type { RecordCollatorOptions } from "./data/record-collator";
export { mergeBatches } from "./data/merge-batches";
export type { PaddingOptions } from "./data/merge-batches";
export { splitForEval } from "./data/eval-split";

export { Trainer } from "./loop/trainer";
export type { TrainerOptions } from "./loop/trainer";
export type { LoadedBatch } from "./loop/loaded-batch";
export { disposeBatch } from "./loop/dispose-batch";
export { NonFiniteLossError } from "./loop/non-finite";
export { DataCursor } from "./loop/data-cursor";
export type { DataCursorState } from "./loop/data-cursor";
export { evaluate } from "./loop/evaluate";
export type { EvalMetrics } from "./loop/evaluate";
export { formatStepLine, formatEvalLine } from "./loop/step-log";
export type { StepMetrics } from "./loop/step-log";

export { CheckpointManager } from "./checkpoint/checkpoint-manager";
export type { CheckpointEntry } from "./checkpoint/checkpoint-manager";
export { loadCheckpoint } from "./checkpoint/load-checkpoint";
export { saveModules } from "./checkpoint/save-modules";
export { loadModules } from "./checkpoint/load-modules";
export { readTrainerState, trainerStateSchema } from "./checkpoint/trainer-state";
export type { TrainerState } from "./checkpoint/trainer-state";

export { MetricsFile } from "./report/metrics-file";
export { ProgressBar, formatDuration } from "./report/progress-bar";
export type { TerminalStream } from "./report/progress-bar";
export { LogLineReporter } from "./report/progress-reporter";
export type { ProgressReporter } from "./report/progress-reporter";
export { createProgressReporter } from "./report/create-progress-reporter";
export type { ProgressMode } from "./report/create-progress-reporter";
export { renderLossCurveSvg } from "./report/loss-curve-svg";
export type { LossPoint } from "./report/loss-curve-svg";

export { buildTrainingSetup } from "./model/build-model";
export type { TrainingSetup } from "./model/build-model";
export { trainModesFor } from "./model/trainable";
export { runTraining } from "./run-training";
export type { RunTrainingOptions, TrainingResult } from "./run-training";
export { loadTrainedModel } from "./checkpoint/load-trained-model";
export { readConfigFile } from "./config/read-config-file";
export { parseConfigOverride, applyConfigOverrides } from "./config/config-overrides";
export type { ConfigOverride } from "./config/config-overrides";
export type { LoadTrainConfigOptions } from "./config/load-config";
export { resolveModelReferences, isHubModelId, isHubReference } from "./config/model-references";
export { MODULE_FOLDERS } from "./checkpoint/save-modules";
