import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MultimodalModel } from "@mm/core";
import { writeJsonFile } from "@mm/models";
import type { MultimodalProcessor } from "@mm/processor";
import { saveModules } from "../checkpoint/save-modules";
import { saveProcessorConfigs } from "../checkpoint/save-processor-configs";
import type { TrainConfig } from "../config/train-config";
import type { EvalMetrics } from "../loop/evaluate";
import type { StepMetrics } from "../loop/step-log";
import { renderLossCurveSvg } from "../report/loss-curve-svg";

/**
 * Writes the trained model to `directory`: each module in Hugging Face format (see saveModules),
 * each encoder's preprocessor_config.json, the tokenizer with its modality tokens, `mm_config.json` with the modality token ids and the
 * parts that were trained, and the loss curve as `loss.svg`.
 */
export async function writeTrainedModel(
  directory: string,
  model: MultimodalModel,
  processor: MultimodalProcessor,
  history: StepMetrics[],
  evalHistory: EvalMetrics[],
  encoders: TrainConfig["model"]["encoders"],
): Promise<void> {
  mkdirSync(directory, { recursive: true });
  await saveModules(model, directory);
  saveProcessorConfigs(encoders, directory);
  processor.tokenizer.save(join(directory, "tokenizer"));
  writeJsonFile(join(directory, "mm_config.json"), {
    modality_token_ids: processor.modalityTokenIds,
    modality_tokens: processor.tokenizer.modalityTokens,
    // The train modes of the run ({ encodersMode, llmMode }), which `mm inspect` reports.
    trainable: model.trainModes(),
  });
  writeFileSync(join(directory, "loss.svg"), renderLossCurveSvg(history, evalHistory));
}
