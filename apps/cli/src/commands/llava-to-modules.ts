import { existsSync } from "node:fs";
import { join } from "node:path";
import { splitLlavaFolder, writeJsonFile, type LlavaModuleFolders } from "@mm/models";
import { Tokenizer } from "@mm/processor";
import { MODULE_FOLDERS } from "@mm/trainer";
import { copyExistingFiles, TOKENIZER_FILES } from "./model-files";

/** Returns the part folders of a LLaVA model in the layout that mm train writes. */
export function llavaModuleFolders(root: string): LlavaModuleFolders {
  return {
    visionTower: join(root, MODULE_FOLDERS.encoder("vision")),
    projector: join(root, MODULE_FOLDERS.projector("vision")),
    languageModel: join(root, MODULE_FOLDERS.languageModel),
  };
}

/**
 * Writes a Hugging Face LLaVA folder in the layout that mm train writes. The three modules are
 * always written, and tokenizer/ and vision_encoder/preprocessor_config.json when the source has
 * those files. mm_config.json records the image token id (and its text when there is a
 * tokenizer) and LLaVA's feature layer and strategy.
 */
export function convertLlavaToModules(source: string, output: string, write: (line: string) => void): void {
  const settings = splitLlavaFolder(source, llavaModuleFolders(output));
  const parts = [`${MODULE_FOLDERS.encoder("vision")} (${settings.visionConfig.model_type})`, MODULE_FOLDERS.projector("vision"), `${MODULE_FOLDERS.languageModel} (${settings.textConfig.model_type})`];
  write(`wrote ${parts.join(", ")} to ${output}`);

  const imageToken = copyTokenizer(source, join(output, "tokenizer"), settings.imageTokenIndex, write);
  const preprocessor = copyExistingFiles(source, join(output, "vision_encoder"), ["preprocessor_config.json"]);
  if (preprocessor.length > 0) write("preprocessor: copied preprocessor_config.json into vision_encoder/");
  else write(`preprocessor: ${source} has no preprocessor_config.json, so none was written; mm generate needs vision_encoder/preprocessor_config.json`);

  writeJsonFile(join(output, "mm_config.json"), {
    modality_token_ids: { vision: settings.imageTokenIndex },
    ...(imageToken === undefined ? {} : { modality_tokens: { vision: imageToken } }),
    llava: { vision_feature_layer: settings.visionFeatureLayer, vision_feature_select_strategy: settings.visionFeatureSelectStrategy },
  });
}

/** Copies the tokenizer files and returns the text of the image token, or undefined without a tokenizer. */
function copyTokenizer(source: string, target: string, imageTokenIndex: number, write: (line: string) => void): string | undefined {
  if (!existsSync(join(source, "tokenizer.json"))) {
    write(`tokenizer: ${source} has no tokenizer.json, so no tokenizer/ was written; mm generate and loadTrainedModel need tokenizer/tokenizer.json`);
    return undefined;
  }
  const copied = copyExistingFiles(source, target, TOKENIZER_FILES);
  const token = Tokenizer.fromPretrained(target).idToToken(imageTokenIndex);
  if (token === undefined) {
    write(`tokenizer: copied ${copied.join(", ")}; no token has the image token id ${imageTokenIndex}, so mm_config.json records no token text`);
    return undefined;
  }
  write(`tokenizer: copied ${copied.join(", ")}; image token ${JSON.stringify(token)} (id ${imageTokenIndex})`);
  return token;
}

