import { getLogLevel } from "@mm/core";
import { ProgressBar, type TerminalStream } from "./progress-bar";
import { LogLineReporter, type ProgressReporter } from "./progress-reporter";

/** Progress display: "bar" (a terminal progress bar), "lines" (log lines) or "auto" (chosen by the stream). */
export type ProgressMode = "auto" | "bar" | "lines";

/**
 * Picks the progress display: with "auto", a progress bar when `stream` is a terminal and the log
 * level shows info lines, plain log lines otherwise (pipes, files, CI logs).
 */
export function createProgressReporter(
  mode: ProgressMode,
  options: { logEvery: number; stream?: TerminalStream & { isTTY?: boolean } },
): ProgressReporter {
  const stream = options.stream ?? process.stdout;
  const showsInfo = getLogLevel() === "info" || getLogLevel() === "debug";
  const useBar = mode === "bar" || (mode === "auto" && stream.isTTY === true && showsInfo);
  return useBar ? new ProgressBar(stream) : new LogLineReporter(options.logEvery);
}
