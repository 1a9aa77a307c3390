import { ConfigError, getLogger } from "@mm/core";
import type { TrainConfig } from "../config/train-config";
import { splitForEval } from "../data/eval-split";
import { readDataset } from "../data/read-dataset";
import type { BadRecord, TrainingRecord } from "../data/training-record";

const log = getLogger("trainer");

/** The records of a run: training and held-out, and the malformed ones skipped while reading. */
export interface TrainingData {
  train: TrainingRecord[];
  evaluation: TrainingRecord[];
  badRecords: BadRecord[];
}

/**
 * Reads `data.train`, and `data.eval` or the `data.evalFraction` split. With
 * `data.skipBadRecords`, malformed records are skipped and returned in `badRecords`.
 */
export function readTrainingData(config: TrainConfig): TrainingData {
  const skipBadRecords = config.data.skipBadRecords;
  const train = readDataset(config.data.train, { skipBadRecords, configKey: "data.train" });
  const heldOut = config.data.eval === undefined ? undefined : readDataset(config.data.eval, { skipBadRecords, configKey: "data.eval" });
  const badRecords = [...train.badRecords, ...(heldOut?.badRecords ?? [])];
  for (const record of badRecords) log.warn(`skipped record "${record.id}" in ${record.file}: ${record.reason}`);
  if (config.data.evalFraction === undefined) return { train: train.records, evaluation: heldOut?.records ?? [], badRecords };
  const split = splitForEval(train.records, config.data.evalFraction, config.seed);
  return { ...split, badRecords };
}

/** Throws a ConfigError when records have media of a modality the model has no encoder for. */
export function checkModalities(data: TrainingData, modalities: string[]): void {
  const records = [...data.train, ...data.evaluation];
  const needs: Array<[string, string, (r: TrainingRecord) => boolean]> = [
    ["vision", "images", (r) => r.images.length > 0],
    ["audio", "audio clips", (r) => r.audios.length > 0],
  ];
  for (const [modality, media, has] of needs) {
    const record = records.find(has);
    if (record !== undefined && !modalities.includes(modality)) {
      throw new ConfigError(`${record.file} has ${media} (record "${record.id}") but the model has no "${modality}" encoder; add model.encoders.${modality}`, "model.encoders");
    }
  }
}
