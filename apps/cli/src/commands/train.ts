import { resolve } from "node:path";
import { parseBackendRequest } from "@mm/core";
import { loadTrainConfig, runTraining } from "@mm/trainer";
import { parseCommandArgs } from "../parse-args";

export const TRAIN_HELP = `Usage: mm train CONFIG [--backend NAME] [--output DIR] [--resume]

Trains a multimodal model described by a JSON config (see examples/vlm/config.json) and writes
each trained module in Hugging Face format (config.json + model.safetensors) under the output
folder: <modality>_encoder/module, <modality>_encoder/projector, language_model. The output
folder also gets metrics.jsonl (one line per step and evaluation), loss.svg and checkpoints/step-N
(every training.saveEvery steps and at the end). A new run deletes the checkpoints of an earlier one.

Options:
  --backend NAME   tfjs backend: auto, tensorflow, wasm or cpu (overrides the config and MM_BACKEND)
  --output DIR     output folder (overrides the config's "output")
  --resume         continue from the newest complete checkpoint in OUTPUT/checkpoints
  -h, --help       show this help`;

/** Runs `mm train`; returns the exit status. */
export async function runTrain(argv: string[], write: (line: string) => void): Promise<number> {
  const options = { backend: { type: "string" }, output: { type: "string" }, resume: { type: "boolean" } } as const;
  const { values, positionals } = parseCommandArgs("train", argv, options, 1);
  const config = loadTrainConfig(positionals[0]);
  if (values.backend !== undefined) config.backend = parseBackendRequest(String(values.backend), "--backend");
  else if (process.env.MM_BACKEND) config.backend = parseBackendRequest(process.env.MM_BACKEND, "MM_BACKEND");
  if (values.output !== undefined) config.output = resolve(String(values.output));
  const { history, seconds, outputDirectory } = await runTraining(config, { resume: values.resume === true });
  const first = history[0].loss;
  const last = history[history.length - 1].loss;
  write(`done: ${history.length} steps in ${seconds.toFixed(1)} s; loss ${first.toFixed(4)} -> ${last.toFixed(4)}; weights in ${outputDirectory}`);
  return 0;
}
