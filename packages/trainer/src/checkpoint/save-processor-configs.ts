import { copyFileSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeJsonFile } from "@mm/models";
import type { TrainConfig } from "../config/train-config";

/**
 * Writes each encoder's preprocessor_config.json to `<modality>_encoder/preprocessor_config.json`
 * under `directory`, copied from the config's processor path or written from its inline config,
 * so that a trained folder can be loaded for generation on its own.
 */
export function saveProcessorConfigs(encoders: TrainConfig["model"]["encoders"], directory: string): void {
  for (const [modality, spec] of Object.entries(encoders)) {
    const target = join(directory, `${modality}_encoder`, "preprocessor_config.json");
    mkdirSync(join(directory, `${modality}_encoder`), { recursive: true });
    if (spec.processor.config !== undefined) {
      writeJsonFile(target, spec.processor.config);
    } else if (spec.processor.path !== undefined) {
      const source = statSync(spec.processor.path).isDirectory() ? join(spec.processor.path, "preprocessor_config.json") : spec.processor.path;
      copyFileSync(source, target);
    }
  }
}
