/**
 * One level-gated logger for all mm packages. Library code logs through it and never calls
 * `console` directly, so applications can raise the level or redirect the lines.
 * `MM_LOG_LEVEL` (debug, info, warn, error, silent) sets the starting level.
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Receives every line that passes the level gate. */
export type LogSink = (level: Exclude<LogLevel, "silent">, scope: string, message: string) => void;

const defaultSink: LogSink = (level, scope, message) => {
  const line = level === "info" ? `${message}\n` : `[${level}] ${scope}: ${message}\n`;
  if (level === "info" || level === "debug") process.stdout.write(line);
  else process.stderr.write(line);
};

let currentLevel: LogLevel = parseLevel(process.env.MM_LOG_LEVEL) ?? "info";
let currentSink: LogSink = defaultSink;

function parseLevel(value: string | undefined): LogLevel | undefined {
  if (value === undefined || value === "") return undefined;
  const level = value.toLowerCase();
  return level in LEVEL_ORDER ? (level as LogLevel) : undefined;
}

export function setLogLevel(level: LogLevel): void {
  currentLevel = level;
}

export function getLogLevel(): LogLevel {
  return currentLevel;
}

/** Replaces where log lines go; returns the previous sink so tests can restore it. */
export function setLogSink(sink: LogSink): LogSink {
  const previous = currentSink;
  currentSink = sink;
  return previous;
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Returns a logger whose lines carry `scope` (a package or module name). */
export function getLogger(scope: string): Logger {
  const emit = (level: Exclude<LogLevel, "silent">, message: string) => {
    if (LEVEL_ORDER[level] >= LEVEL_ORDER[currentLevel]) currentSink(level, scope, message);
  };
  return {
    debug: (message) => emit("debug", message),
    info: (message) => emit("info", message),
    warn: (message) => emit("warn", message),
    error: (message) => emit("error", message),
  };
}
