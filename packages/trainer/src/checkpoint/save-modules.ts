import { join } from "node:path";
import { MultimodalProjector, saveModuleWeights, type Module, type MultimodalModel } from "@mm/core";
import { savePretrained, writeJsonFile, type PretrainedModel } from "@mm/models";

/** The folder of each module under a model folder, relative to it. */
export const MODULE_FOLDERS = {
  encoder: (modality: string) => join(`${modality}_encoder`, "module"),
  projector: (modality: string) => join(`${modality}_encoder`, "projector"),
  languageModel: "language_model",
} as const;

/**
 * Writes each module of the model in Hugging Face format in its own folder:
 * `<modality>_encoder/module`, `<modality>_encoder/projector` and `language_model`, each with
 * `config.json` and `model.safetensors`. A module that is not a Hugging Face model (it has no
 * `toConfigJson`, like the toy test models) gets `model.safetensors` only. Returns the folders.
 */
export async function saveModules(model: MultimodalModel, directory: string): Promise<string[]> {
  const written: string[] = [];
  for (const [modality, encoder] of Object.entries(model.encoders)) {
    const encoderDirectory = join(directory, MODULE_FOLDERS.encoder(modality));
    await saveModuleFolder(encoder.module as unknown as Module, encoderDirectory);
    written.push(encoderDirectory);
    const projector = encoder.projector;
    if (projector !== undefined) {
      const projectorDirectory = join(directory, MODULE_FOLDERS.projector(modality));
      await saveModuleWeights(projector, join(projectorDirectory, "model.safetensors"));
      if (projector instanceof MultimodalProjector) writeJsonFile(join(projectorDirectory, "config.json"), projector.toConfigJson());
      written.push(projectorDirectory);
    }
  }
  const languageModelDirectory = join(directory, MODULE_FOLDERS.languageModel);
  await saveModuleFolder(model.languageModel as unknown as Module, languageModelDirectory);
  written.push(languageModelDirectory);
  return written;
}

async function saveModuleFolder(module: Module, directory: string): Promise<void> {
  const pretrained = module as unknown as Partial<PretrainedModel>;
  if (typeof pretrained.toConfigJson === "function") await savePretrained(module as PretrainedModel, directory);
  else await saveModuleWeights(module, join(directory, "model.safetensors"));
}
