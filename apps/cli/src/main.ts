#!/usr/bin/env node
import { runCli } from "./run-cli";

process.exitCode = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
// The WASM backend keeps no handles open, but exit explicitly so a finished run never lingers.
process.exit(process.exitCode);
