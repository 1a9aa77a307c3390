import { InputError, initBackend, parseBackendRequest, backendFromEnvironment } from "@mm/core";
import { generateMultimodal, type GenerationOptions } from "@mm/models";
import { disposeBatch, loadTrainedModel } from "@mm/trainer";
import { parseCommandArgs } from "../parse-args";
import { UsageError } from "../usage-error";

export const GENERATE_HELP = `Usage: mm generate --checkpoint DIR --prompt TEXT [--image FILE]... [--audio FILE]... [options]

Answers a prompt with a model trained by mm train. Each --image and --audio is placed where its
modality token (for example <image>) stands in the prompt; when the prompt has no such token, one
token per file is put in front of it.

Options:
  --checkpoint DIR            output folder of mm train or mm convert (required)
  --prompt TEXT               the user message (required)
  --image FILE                an image (repeatable; default: none)
  --audio FILE                an audio file (repeatable; default: none)
  --max-new-tokens N          maximum number of tokens to generate (default 64)
  --temperature T             sample with this temperature; 0 decodes greedily (default 0)
  --top-k K                   sample only from the K most likely tokens (default 50)
  --top-p P                   sample only from the smallest set with probability at least P (default 1)
  --repetition-penalty R      divide the scores of tokens already present by R (default 1)
  --seed N                    random seed for sampling (default 0)
  --backend NAME              tfjs backend: auto, tensorflow, wasm or cpu (default: MM_BACKEND, else auto).
                              On WASM, MM_WASM_THREADS sets the threads, 1 to 8 (default: one per
                              logical CPU, at most 8)
  -h, --help                  show this help`;

export const GENERATE_OPTIONS = {
  checkpoint: { type: "string" },
  prompt: { type: "string" },
  image: { type: "string", multiple: true },
  audio: { type: "string", multiple: true },
  "max-new-tokens": { type: "string" },
  temperature: { type: "string" },
  "top-k": { type: "string" },
  "top-p": { type: "string" },
  "repetition-penalty": { type: "string" },
  seed: { type: "string" },
  backend: { type: "string" },
} as const;

function numberOption(values: Record<string, unknown>, name: string, fallback: number, integer = false): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UsageError(`mm generate: --${name} must be ${integer ? "an integer" : "a number"}, got "${raw}"`, "generate");
  }
  return value;
}

/** Puts one modality token per input in front of the prompt when the prompt has none. */
function promptWithTokens(prompt: string, tokens: Record<string, string>, inputs: Record<string, string[]>): string {
  let text = prompt;
  for (const [modality, files] of Object.entries(inputs)) {
    const token = tokens[modality];
    if (files.length === 0 || token === undefined || text.includes(token)) continue;
    text = `${`${token}\n`.repeat(files.length)}${text}`;
  }
  return text;
}

/** Runs `mm generate`; returns the exit status. */
export async function runGenerate(argv: string[], write: (line: string) => void): Promise<number> {
  const { values } = parseCommandArgs("generate", argv, GENERATE_OPTIONS, 0);
  if (values.checkpoint === undefined || values.prompt === undefined) {
    throw new UsageError('mm generate: --checkpoint and --prompt are required; run "mm generate --help"', "generate");
  }
  const temperature = numberOption(values, "temperature", 0);
  const sampling = {
    do_sample: true,
    temperature,
    top_k: numberOption(values, "top-k", 50, true),
    top_p: numberOption(values, "top-p", 1),
    seed: numberOption(values, "seed", 0, true),
  };
  const options: GenerationOptions = {
    max_new_tokens: numberOption(values, "max-new-tokens", 64, true),
    repetition_penalty: numberOption(values, "repetition-penalty", 1),
    ...(temperature > 0 ? sampling : {}),
  };
  await initBackend(values.backend === undefined ? backendFromEnvironment() : parseBackendRequest(String(values.backend), "--backend"));
  const { model, processor } = await loadTrainedModel(String(values.checkpoint));
  const inputs: Record<string, string[]> = { vision: (values.image as string[] | undefined) ?? [], audio: (values.audio as string[] | undefined) ?? [] };
  for (const [modality, files] of Object.entries(inputs)) {
    if (files.length > 0 && !model.modalities.includes(modality)) {
      throw new InputError(`this model has no ${modality} encoder (it has ${model.modalities.join(", ") || "none"}); remove --${modality === "vision" ? "image" : "audio"}`);
    }
  }
  const tokens = processor.tokenizer.modalityTokens;
  const text = promptWithTokens(String(values.prompt), tokens, inputs);
  const batch = await processor.processConversations([{ conversations: [{ from: "human", value: text }], inputs }]);
  try {
    const { newTokens } = generateMultimodal(model, batch, options);
    write(processor.tokenizer.decode(newTokens[0], { skipSpecialTokens: true }).trim());
  } finally {
    disposeBatch(batch);
    model.dispose();
  }
  return 0;
}
