import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, getLogger, initBackend, manualSeed } from "@mm/core";
import { writeJsonFile } from "@mm/models";
import type { TrainConfig } from "./config/train-config";
import { saveModules } from "./checkpoint/save-modules";
import { llavaCollator } from "./data/collate";
import { readLlavaDataset } from "./data/llava-dataset";
import { Trainer } from "./loop/trainer";
import type { StepMetrics } from "./loop/step-log";
import { buildTrainingSetup } from "./model/build-model";
import { trainModesFor } from "./model/trainable";

const log = getLogger("trainer");

export interface TrainingResult {
  history: StepMetrics[];
  outputDirectory: string;
  seconds: number;
}

/**
 * Runs a whole `mm train` job: backend, seeded model and processor, dataset, training loop, and
 * the trained modules written to `config.output` in Hugging Face format.
 */
export async function runTraining(config: TrainConfig): Promise<TrainingResult> {
  const started = performance.now();
  const backend = await initBackend(config.backend);
  manualSeed(config.seed);
  const records = readLlavaDataset(config.data.train);
  const { model, processor } = await buildTrainingSetup(config);
  const modalities = Object.keys(config.model.encoders);
  if (records.some((r) => r.images.length > 0) && !modalities.includes("vision")) {
    throw new ConfigError(`${config.data.train} has images but the model has no "vision" encoder; add model.encoders.vision`, "model.encoders");
  }
  model.train(trainModesFor(config.trainable, model));
  const trainable = model.trainableParameters().reduce((sum, v) => sum + v.size, 0);
  log.info(`backend ${backend.backend}; ${records.length} records; ${model.numParameters()} parameters, ${trainable} trainable`);

  const trainer = new Trainer({ model, training: config.training, records, collate: llavaCollator(processor, { maxLength: config.data.maxLength }), seed: config.seed });
  const history = await trainer.run();

  mkdirSync(config.output, { recursive: true });
  await saveModules(model, config.output);
  processor.tokenizer.save(join(config.output, "tokenizer"));
  writeJsonFile(join(config.output, "mm_config.json"), { modality_token_ids: processor.modalityTokenIds, modality_tokens: processor.tokenizer.modalityTokens });
  trainer.optimizer.dispose();
  model.dispose();
  const seconds = (performance.now() - started) / 1000;
  log.info(`saved the trained modules to ${config.output} (${seconds.toFixed(1)} s)`);
  return { history, outputDirectory: config.output, seconds };
}
