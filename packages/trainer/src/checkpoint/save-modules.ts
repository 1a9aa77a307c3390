import { join } from "node:path";
import { MultimodalProjector, saveModuleWeights, type MultimodalModel } from "@mm/core";
import { savePretrained, writeJsonFile, type PretrainedModel } from "@mm/models";

/**
 * Writes each module of the model in Hugging Face format in its own folder:
 * `<modality>_encoder/module`, `<modality>_encoder/projector` and `language_model`, each with
 * `config.json` and `model.safetensors`.
 */
export async function saveModules(model: MultimodalModel, directory: string): Promise<string[]> {
  const written: string[] = [];
  for (const [modality, encoder] of Object.entries(model.encoders)) {
    const encoderDirectory = join(directory, `${modality}_encoder`);
    await savePretrained(encoder.module as unknown as PretrainedModel, join(encoderDirectory, "module"));
    written.push(join(encoderDirectory, "module"));
    const projector = encoder.projector;
    if (projector !== undefined) {
      const projectorDirectory = join(encoderDirectory, "projector");
      await saveModuleWeights(projector, join(projectorDirectory, "model.safetensors"));
      if (projector instanceof MultimodalProjector) writeJsonFile(join(projectorDirectory, "config.json"), projector.toConfigJson());
      written.push(projectorDirectory);
    }
  }
  await savePretrained(model.languageModel as unknown as PretrainedModel, join(directory, "language_model"));
  written.push(join(directory, "language_model"));
  return written;
}
