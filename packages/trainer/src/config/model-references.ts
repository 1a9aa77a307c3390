import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { getLogger, InputError } from "@mm/core";
import { parseHubReference, resolveModelReference, type ResolveModelOptions } from "@mm/models";
import type { TrainConfig } from "./train-config";

const log = getLogger("trainer.config");

/** Tells whether `value` is written as a Hub model id: `org/name` or `org/name@revision`. */
export function isHubModelId(value: string): boolean {
  try {
    parseHubReference(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Tells whether a model reference of a config names a Hub model: it is not absolute, no such
 * path exists, and it reads as `org/name[@revision]`. `loadTrainConfig` makes every local path
 * absolute, so after it only Hub ids stay relative.
 */
export function isHubReference(value: string): boolean {
  return !isAbsolute(value) && !existsSync(value) && isHubModelId(value);
}

/** A file the resolved folder must contain, with the key it is checked for. */
interface RequiredFile {
  key: string;
  file: string;
}

/**
 * Replaces each Hub id among the model references of a config with the local folder that
 * `resolveModelReference` returns: `model.languageModel.path`, `model.encoders.<modality>.model.path`,
 * `model.encoders.<modality>.processor.path` and `tokenizer`. Each id is downloaded into the
 * Hugging Face cache once (HF_HOME, HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE apply, or `options`);
 * local paths are kept as they are. A processor folder must contain preprocessor_config.json and
 * a tokenizer folder tokenizer.json.
 *
 * NOTE: runTraining does not call this, so a config with Hub ids must pass through it first
 * (`mm train` does). resolveModelReference also requires config.json and safetensors weights, so
 * a repository that holds only a tokenizer or a preprocessor config cannot be named here.
 *
 * @throws InputError naming the key and the id when the download fails or a required file is missing.
 */
export async function resolveModelReferences(config: TrainConfig, options: ResolveModelOptions = {}): Promise<TrainConfig> {
  const resolved = new Map<string, Promise<string>>();
  const resolve = async (value: string, required: RequiredFile): Promise<string> => {
    if (!isHubReference(value)) return value;
    if (!resolved.has(value)) resolved.set(value, downloadReference(value, required.key, options));
    const folder = await resolved.get(value)!;
    requireFile(folder, value, required);
    return folder;
  };
  const languageModel = config.model.languageModel;
  const encoders: TrainConfig["model"]["encoders"] = {};
  for (const [modality, spec] of Object.entries(config.model.encoders)) {
    const key = `model.encoders.${modality}`;
    const model = spec.model.path === undefined ? spec.model : { ...spec.model, path: await resolve(spec.model.path, { key: `${key}.model.path`, file: "config.json" }) };
    const processorPath = spec.processor.path;
    const processor = processorPath === undefined ? spec.processor : { ...spec.processor, path: await resolve(processorPath, { key: `${key}.processor.path`, file: "preprocessor_config.json" }) };
    encoders[modality] = { ...spec, model, processor };
  }
  return {
    ...config,
    model: {
      languageModel: languageModel.path === undefined ? languageModel : { ...languageModel, path: await resolve(languageModel.path, { key: "model.languageModel.path", file: "config.json" }) },
      encoders,
    },
    tokenizer: await resolve(config.tokenizer, { key: "tokenizer", file: "tokenizer.json" }),
  };
}

async function downloadReference(id: string, key: string, options: ResolveModelOptions): Promise<string> {
  try {
    const folder = await resolveModelReference(id, options);
    log.info(`${key}: Hub model ${id} is in ${folder}`);
    return folder;
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const message = `"${key}": ${id} is not a local path, so it was looked up as a Hub model id: ${error.message}`;
    throw new InputError(message, error.file);
  }
}

function requireFile(folder: string, id: string, { key, file }: RequiredFile): void {
  if (existsSync(join(folder, file))) return;
  throw new InputError(`"${key}": the Hub model ${id} has no ${file}; name a repository that has one, or a local folder`, join(folder, file));
}
