import type { ParseArgsConfig } from "node:util";
import { CONVERT_HELP, CONVERT_OPTIONS, runConvert } from "./commands/convert";
import { DOCTOR_HELP, DOCTOR_OPTIONS, runDoctor } from "./commands/doctor";
import { GENERATE_HELP, GENERATE_OPTIONS, runGenerate } from "./commands/generate";
import { INSPECT_HELP, INSPECT_OPTIONS, runInspect } from "./commands/inspect";
import { TRAIN_HELP, TRAIN_OPTIONS, runTrain } from "./commands/train";

/** One `mm` command: its --help text, its parseArgs options and the function that runs it. */
export interface Command {
  help: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  run: (argv: string[], write: (line: string) => void) => Promise<number>;
}

/** The `mm` commands by name, in the order `mm --help` lists them. */
export const COMMANDS: Record<string, Command> = {
  train: { help: TRAIN_HELP, options: TRAIN_OPTIONS, run: runTrain },
  generate: { help: GENERATE_HELP, options: GENERATE_OPTIONS, run: runGenerate },
  inspect: { help: INSPECT_HELP, options: INSPECT_OPTIONS, run: runInspect },
  convert: { help: CONVERT_HELP, options: CONVERT_OPTIONS, run: runConvert },
  doctor: { help: DOCTOR_HELP, options: DOCTOR_OPTIONS, run: runDoctor },
};
