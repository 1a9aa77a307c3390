import { readFileSync } from "node:fs";
import { MMError } from "@mm/core";
import { COMMANDS } from "./command-table";
import { UsageError } from "./usage-error";

export interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
}

const MAIN_HELP = `Usage: mm <command> [options]

Build and train multimodal LLMs on TensorFlow.js.

Commands:
  train CONFIG        train a model described by a JSON or YAML config
  generate            answer a prompt (with images or audio) using a trained model
  inspect DIR         show the modules, parameter counts, modality tokens and tokenizer of a trained model
  convert llava DIR   convert a Hugging Face LLaVA checkpoint to mm's per-module folders, or back (--to hf)
  doctor              show the tfjs backend in use and why others were skipped

Options:
  -h, --help     show help (also after a command: mm train --help)
  -v, --version  print the mm version

Exit status: 0 success, 1 failed run, 2 bad usage.`;

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

/** Runs the `mm` command line and returns its exit status (0 ok, 1 failed run, 2 bad usage). */
export async function runCli(argv: string[], output: Output): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help") {
    output.out(MAIN_HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === "-v" || command === "--version") {
    output.out(version());
    return 0;
  }
  const entry = COMMANDS[command];
  if (entry === undefined) {
    output.err(`mm: unknown command "${command}"; commands: ${Object.keys(COMMANDS).join(", ")} (run "mm --help")`);
    return 2;
  }
  if (rest.includes("-h") || rest.includes("--help")) {
    output.out(entry.help);
    return 0;
  }
  try {
    return await entry.run(rest, output.out);
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(error.message);
      return 2;
    }
    if (error instanceof MMError) {
      output.err(`mm ${command}: error: ${error.message}`);
      return 1;
    }
    // Anything else is a bug in mm: keep the stack so it can be reported.
    output.err(`mm ${command}: unexpected error: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}
