/**
 * Entry of the child process in the kill-and-resume test: `node train-child.js CONFIG [--resume]`
 * runs `runTraining` as `mm train` does, with plain log lines.
 */
import { loadTrainConfig } from "../config/load-config";
import { runTraining } from "../run-training";

const [configPath, flag] = process.argv.slice(2);
await runTraining(loadTrainConfig(configPath), { resume: flag === "--resume", progress: "lines" });
process.exit(0);
