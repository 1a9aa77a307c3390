import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./usage-error";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses one command's arguments with node:util's parseArgs; unknown options and a wrong number
 * of positional arguments become a UsageError naming the command.
 */
export interface ParsedArgs {
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  positionals: string[];
}

export function parseCommandArgs(command: string, argv: string[], options: Options, positionals: number | [number, number]): ParsedArgs {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`mm ${command}: ${(error as Error).message}; run "mm ${command} --help"`, command);
  }
  const [min, max] = typeof positionals === "number" ? [positionals, positionals] : positionals;
  const count = parsed.positionals.length;
  if (!parsed.values.help && (count < min || count > max)) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    throw new UsageError(`mm ${command}: expected ${expected} argument(s), got ${count}; run "mm ${command} --help"`, command);
  }
  return parsed;
}
