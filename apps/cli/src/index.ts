export { runCli } from "./run-cli";
export type { Output } from "./run-cli";
export { UsageError } from "./usage-error";
