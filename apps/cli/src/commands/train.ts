import { resolve } from "node:path";
import { ConfigError, parseBackendRequest } from "@mm/core";
import { loadTrainConfig, parseConfigOverride, resolveModelReferences, runTraining, type ConfigOverride } from "@mm/trainer";
import { parseCommandArgs } from "../parse-args";
import { UsageError } from "../usage-error";

export const TRAIN_HELP = `Usage: mm train CONFIG [--set KEY=VALUE]... [--backend NAME] [--output DIR] [--resume]

Trains a multimodal model described by a JSON or YAML config (.json, or .yaml/.yml; see
examples/vlm/config.json) and writes each trained module in Hugging Face format (config.json +
model.safetensors) under the output folder: <modality>_encoder/module, <modality>_encoder/projector,
language_model. The output folder also gets metrics.jsonl (one line per step and evaluation),
loss.svg and checkpoints/step-N (every training.saveEvery steps and at the end). A new run deletes
the checkpoints of an earlier one.

Relative paths in the config, and in --set values, are relative to the config file's folder.
model.languageModel.path, model.encoders.<modality>.model.path, .processor.path and tokenizer also
accept a Hugging Face Hub id, org/name or org/name@revision, when no local path of that name
exists; it is downloaded into the Hugging Face cache (HF_HOME, HF_ENDPOINT, HF_TOKEN and
HF_HUB_OFFLINE apply).

Options:
  --set KEY=VALUE  change one config value before validation (repeatable, applied in order).
                   KEY is a dotted path such as training.steps or model.encoders.vision.token.
                   VALUE is read as JSON when it parses (10, 1e-4, true, [1,2], "10") and as a
                   string otherwise; null removes the key. Default: none
  --backend NAME   tfjs backend: auto, tensorflow, wasm or cpu (default: --set backend=NAME,
                   else MM_BACKEND, else the config's "backend", else auto). On WASM,
                   MM_WASM_THREADS sets the threads, 1 to 8 (default: one per logical CPU, at most 8)
  --output DIR     output folder, relative to the working directory (default: the config's "output")
  --resume         continue from the newest complete checkpoint in OUTPUT/checkpoints
  -h, --help       show this help

Example:
  mm train config.yaml --set training.steps=10 --set trainable=projector --set model.encoders.vision.token="<img>"`;

export const TRAIN_OPTIONS = {
  set: { type: "string", multiple: true },
  backend: { type: "string" },
  output: { type: "string" },
  resume: { type: "boolean" },
} as const;

/** Parses each --set value; a malformed one is bad usage (exit status 2). */
function parseOverrides(texts: string[]): ConfigOverride[] {
  return texts.map((text) => {
    try {
      return parseConfigOverride(text, "--set");
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(`mm train: ${error.message}`, "train");
      throw error;
    }
  });
}

/** Runs `mm train`; returns the exit status. */
export async function runTrain(argv: string[], write: (line: string) => void): Promise<number> {
  const { values, positionals } = parseCommandArgs("train", argv, TRAIN_OPTIONS, 1);
  const overrides = parseOverrides((values.set as string[] | undefined) ?? []);
  const loaded = loadTrainConfig(positionals[0], { overrides });
  if (values.backend !== undefined) loaded.backend = parseBackendRequest(String(values.backend), "--backend");
  else if (process.env.MM_BACKEND && !overrides.some((override) => override.path.join(".") === "backend")) {
    loaded.backend = parseBackendRequest(process.env.MM_BACKEND, "MM_BACKEND");
  }
  if (values.output !== undefined) loaded.output = resolve(String(values.output));
  const config = await resolveModelReferences(loaded);
  const { history, seconds, outputDirectory } = await runTraining(config, { resume: values.resume === true });
  const first = history[0].loss;
  const last = history[history.length - 1].loss;
  write(`done: ${history.length} steps in ${seconds.toFixed(1)} s; loss ${first.toFixed(4)} -> ${last.toFixed(4)}; weights in ${outputDirectory}`);
  return 0;
}
