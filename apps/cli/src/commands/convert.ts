import { existsSync, readdirSync, statSync } from "node:fs";
import { InputError } from "@mm/core";
import { parseCommandArgs } from "../parse-args";
import { UsageError } from "../usage-error";
import { convertLlavaToModules } from "./llava-to-modules";
import { convertModulesToLlava } from "./modules-to-llava";

export const CONVERT_HELP = `Usage: mm convert llava DIR --output DIR [--to mm|hf]

Converts between a Hugging Face LLaVA checkpoint (config.json with model_type "llava" and
model.safetensors or its shards, as LlavaForConditionalGeneration saves it) and the folder that
mm train writes, with one Hugging Face folder per module. Tensors are copied byte for byte in
their stored dtype (float16 and bfloat16 stay as they are).

  --to mm (default)  DIR is a LLaVA checkpoint. Writes vision_encoder/module (the vision tower),
                     vision_encoder/projector, language_model and mm_config.json (the image token
                     id and the feature layer and strategy). Copies tokenizer.json and the other
                     tokenizer files into tokenizer/, and preprocessor_config.json into
                     vision_encoder/, when DIR has them: mm generate needs both.
  --to hf            DIR is a folder written by mm train or mm convert, with one vision encoder
                     and an "mlp" projector. Writes config.json, model.safetensors (names of
                     transformers before 4.52: vision_tower.*, multi_modal_projector.linear_1.*
                     and linear_2.*, language_model.*), the tokenizer files and
                     preprocessor_config.json.

Options:
  --output DIR   folder to write; it must not exist or be empty (required)
  --to FORMAT    mm or hf: the layout to write (default: mm)
  -h, --help     show this help`;

export const CONVERT_OPTIONS = {
  output: { type: "string" },
  to: { type: "string" },
} as const;

const FORMATS = ["llava"];
const TARGETS = ["mm", "hf"];

/** Runs `mm convert`; returns the exit status. */
export async function runConvert(argv: string[], write: (line: string) => void): Promise<number> {
  const { values, positionals } = parseCommandArgs("convert", argv, CONVERT_OPTIONS, 2);
  const [format, source] = positionals;
  if (!FORMATS.includes(format)) throw new UsageError(`mm convert: unknown format "${format}"; supported: ${FORMATS.join(", ")} (run "mm convert --help")`, "convert");
  const target = values.to === undefined ? "mm" : String(values.to);
  if (!TARGETS.includes(target)) throw new UsageError(`mm convert: --to must be mm or hf, got "${target}"`, "convert");
  if (values.output === undefined) throw new UsageError('mm convert: --output is required; run "mm convert --help"', "convert");
  const output = String(values.output);

  if (!existsSync(source) || !statSync(source).isDirectory()) throw new InputError(`folder not found: ${source}; pass the folder to convert`, source);
  if (existsSync(output) && (!statSync(output).isDirectory() || readdirSync(output).length > 0)) {
    throw new InputError(`${output} already exists and is not an empty folder; pass a new folder to --output`, output);
  }
  if (target === "mm") convertLlavaToModules(source, output, write);
  else convertModulesToLlava(source, output, write);
  return 0;
}
