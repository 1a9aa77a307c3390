import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { readTensors, type Module, type MultimodalModel } from "@mm/core";
import type { PretrainedModel } from "@mm/models";
import { MODULE_FOLDERS } from "./save-modules";

/**
 * Loads the weights that {@link saveModules} wrote under `directory` into the modules of `model`,
 * in place. Throws a ShapeError listing every missing, unexpected or wrongly shaped tensor.
 */
export function loadModules(model: MultimodalModel, directory: string): void {
  for (const [modality, encoder] of Object.entries(model.encoders)) {
    loadModuleFolder(encoder.module as unknown as Module, join(directory, MODULE_FOLDERS.encoder(modality)));
    if (encoder.projector !== undefined) loadModuleFolder(encoder.projector, join(directory, MODULE_FOLDERS.projector(modality)));
  }
  loadModuleFolder(model.languageModel as unknown as Module, join(directory, MODULE_FOLDERS.languageModel));
}

function loadModuleFolder(module: Module, directory: string): void {
  const path = join(directory, "model.safetensors");
  const tensors = readTensors(path);
  try {
    const tied = (module as unknown as Partial<PretrainedModel>).tiedParameterNames?.() ?? [];
    module.loadStateDict(tensors, { allowMissing: tied, source: path });
  } finally {
    tf.dispose([...tensors.values()]);
  }
}
