import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { InputError, readSafetensorsHeader } from "@mm/core";
import { readJsonFile, weightFiles } from "@mm/models";
import { Tokenizer } from "@mm/processor";
import { parseCommandArgs } from "../parse-args";

export const INSPECT_HELP = `Usage: mm inspect DIR

Prints what a trained model folder (the output of mm train or mm convert) holds: each module with its type and
parameter count (total, and trainable when the training run recorded it), the modality tokens
and their ids, and the tokenizer. Reads only file headers, so it is fast for large models.

Options:
  -h, --help   show this help`;

interface ModuleSummary {
  path: string;
  kind: string;
  parameters: number;
  trainable?: boolean;
}

/** Counts parameters from the safetensors headers of a module folder. */
function countParameters(directory: string): number {
  let count = 0;
  for (const file of weightFiles(directory)) {
    for (const { shape } of readSafetensorsHeader(file).tensors.values()) count += shape.reduce((a, b) => a * b, 1);
  }
  return count;
}

function describeModule(directory: string): string {
  const config = readJsonFile(join(directory, "config.json"));
  if (typeof config.model_type === "string") return config.model_type;
  if (config.projection_type !== undefined) return `${config.projection_type} projector ${config.in_features} -> ${config.out_features}`;
  return "unknown";
}

function listModules(root: string, trainable: TrainableRecord | undefined): ModuleSummary[] {
  const modules: ModuleSummary[] = [];
  const add = (path: string, flag?: boolean) => {
    if (existsSync(join(root, path, "config.json"))) modules.push({ path, kind: describeModule(join(root, path)), parameters: countParameters(join(root, path)), trainable: flag });
  };
  for (const entry of readdirSync(root).filter((name) => name.endsWith("_encoder")).sort()) {
    const modality = entry.slice(0, -"_encoder".length);
    const [encoderFlag, projectorFlag] = trainable?.encodersMode?.[modality] ?? [trainable?.llmMode, trainable?.llmMode];
    add(`${entry}/module`, encoderFlag);
    add(`${entry}/projector`, projectorFlag);
  }
  add("language_model", trainable?.llmMode);
  return modules;
}

interface TrainableRecord {
  encodersMode?: Record<string, [boolean, boolean]>;
  llmMode?: boolean;
}

export const INSPECT_OPTIONS = {} as const;

/** Runs `mm inspect`; returns the exit status. */
export async function runInspect(argv: string[], write: (line: string) => void): Promise<number> {
  const { positionals } = parseCommandArgs("inspect", argv, INSPECT_OPTIONS, 1);
  const root = positionals[0];
  if (!existsSync(root)) throw new InputError(`folder not found: ${root}; pass the output folder of mm train`, root);
  const metadata = existsSync(join(root, "mm_config.json")) ? readJsonFile(join(root, "mm_config.json")) : {};
  const modules = listModules(root, metadata.trainable as TrainableRecord | undefined);
  if (modules.length === 0) throw new InputError(`${root} contains no modules (expected <modality>_encoder/module, <modality>_encoder/projector, language_model)`, root);

  write("modules:");
  const width = Math.max(...modules.map((m) => m.path.length));
  for (const module of modules) {
    let trainable = "";
    if (module.trainable === true) trainable = `, ${formatCount(module.parameters)} trainable`;
    if (module.trainable === false) trainable = ", frozen";
    write(`  ${module.path.padEnd(width)}  ${module.kind}: ${formatCount(module.parameters)} parameters${trainable}`);
  }
  const total = modules.reduce((sum, m) => sum + m.parameters, 0);
  const trainableTotal = modules.every((m) => m.trainable !== undefined) ? `, ${formatCount(modules.filter((m) => m.trainable).reduce((sum, m) => sum + m.parameters, 0))} trainable` : "";
  write(`  total: ${formatCount(total)} parameters${trainableTotal}`);

  const tokens = (metadata.modality_tokens ?? {}) as Record<string, string>;
  const ids = (metadata.modality_token_ids ?? {}) as Record<string, number>;
  write("modality tokens:");
  for (const modality of Object.keys(ids)) write(`  ${modality}: ${tokens[modality] ?? "token text not recorded"} (id ${ids[modality]})`);
  if (existsSync(join(root, "tokenizer", "tokenizer.json"))) {
    const tokenizer = Tokenizer.fromPretrained(join(root, "tokenizer"));
    const name = (id: number | null) => (id === null ? "none" : `${tokenizer.idToToken(id)} (${id})`);
    write(`tokenizer: ${tokenizer.vocabSize} tokens; bos ${name(tokenizer.bosTokenId)}, eos ${name(tokenizer.eosTokenId)}, pad ${name(tokenizer.padTokenId)}; padding ${tokenizer.paddingSide}`);
  } else {
    write("tokenizer: none saved");
  }
  return 0;
}

function formatCount(count: number): string {
  return count.toLocaleString("en-US");
}
