#!/usr/bin/env bash
# Benchmark tooling, not part of `npm test`. Times training steps of the reference model
# (bench/reference-config.json) on each tfjs backend and freeze mode, then the same model in
# PyTorch, then @mm/processor's preprocessing, one process after the other, and writes
# docs/benchmarks.md. Took about 5 minutes on 2 idle cores with PyTorch on OpenBLAS, 1.5 of them
# for the one step on tfjs's pure-JS CPU backend.
#
#   bash bench/run.sh
#
# Environment variables, with their defaults:
#   WASM_THREADS          WASM threads for every WASM run but one (default: nproc, at most 8);
#                         when above 1, one more all-trainable run uses 1 thread
#   WASM_STEPS=5          timed WASM steps with every part trainable
#   WASM_FROZEN_STEPS=5   timed WASM steps in each of the two frozen modes
#   WASM_WARMUP=2         untimed WASM steps before the timed ones (after a single one, the
#                         first two timed steps still ran up to 35 % slower than the rest)
#   CPU_STEPS=1           timed steps on the pure-JS CPU backend, all trainable only; 0 skips it
#   TORCH_STEPS=5         maximum timed PyTorch steps per mode
#   TORCH_WARMUP=2        untimed PyTorch steps before the timed ones
#   TORCH_MAX_SECONDS=30  no new timed PyTorch step starts once the timed ones took this long
#   HISTORY_COMMITS       earlier commits whose all-trainable WASM step is timed too; "" skips
#                         them. Default: e886ef0, which ran the LM head at every position, and
#                         ee1b647, which ran attention as batched matMul
#   BENCH_RESULTS         folder for the JSON results (default: a new /tmp/mm-bench.* folder)
#   BENCH_OUT             the page to write (default: docs/benchmarks.md)
# The built packages are used as they are: run `npx tsup` in packages/core, models, trainer and
# processor first when their dist/ is older than src/.
set -euo pipefail
cd "$(dirname "$0")/.."

NPROC=$(nproc)
WASM_THREADS=${WASM_THREADS:-$((NPROC < 8 ? NPROC : 8))}
WASM_STEPS=${WASM_STEPS:-5}
WASM_FROZEN_STEPS=${WASM_FROZEN_STEPS:-5}
WASM_WARMUP=${WASM_WARMUP:-2}
CPU_STEPS=${CPU_STEPS:-1}
TORCH_STEPS=${TORCH_STEPS:-5}
TORCH_WARMUP=${TORCH_WARMUP:-2}
TORCH_MAX_SECONDS=${TORCH_MAX_SECONDS:-30}
HISTORY_COMMITS=${HISTORY_COMMITS-e886ef0 ee1b647}
RESULTS=${BENCH_RESULTS:-$(mktemp -d /tmp/mm-bench.XXXXXX)}
OUT=${BENCH_OUT:-docs/benchmarks.md}
PYTHON=/usr/bin/python3
mkdir -p "$RESULTS"
: > "$RESULTS/commands.txt"

# Runs a command, keeping its stdout as RESULTS/NAME.json and its stderr as RESULTS/NAME.err.
# A failed run leaves the .err file, which write-report.mjs reports.
run() {
  local name=$1
  shift
  echo "$*" >> "$RESULTS/commands.txt"
  echo "bench: $name" >&2
  "$@" > "$RESULTS/$name.json" 2> "$RESULTS/$name.err" || echo "bench: $name failed; see $RESULTS/$name.err" >&2
}

one_minute_load() {
  cut -d' ' -f1 /proc/loadavg
}

STARTED_AT=$(date -u '+%Y-%m-%d %H:%M')
LOAD_START=$(one_minute_load)
SKIPPED="{}"

# tfjs, WASM backend: every freeze mode; the all-trainable run also profiles kernels and phases.
run wasm-all node bench/train-step.mjs --backend wasm --threads "$WASM_THREADS" --mode all --warmup "$WASM_WARMUP" --steps "$WASM_STEPS" --profile
for mode in frozen-vision projector-only; do
  run "wasm-$mode" node bench/train-step.mjs --backend wasm --threads "$WASM_THREADS" --mode "$mode" --warmup "$WASM_WARMUP" --steps "$WASM_FROZEN_STEPS"
done
# The single-threaded build, for what the threads gain.
if [ "$WASM_THREADS" -gt 1 ]; then
  run wasm-1-thread-all node bench/train-step.mjs --backend wasm --threads 1 --mode all --warmup "$WASM_WARMUP" --steps "$WASM_STEPS" --profile
fi

# The same step at earlier commits, for the speed-ups since.
if [ -n "$HISTORY_COMMITS" ]; then
  echo "bash bench/commit-history.sh RESULTS_DIR $HISTORY_COMMITS" >> "$RESULTS/commands.txt"
  # shellcheck disable=SC2086 # one argument per commit
  bash bench/commit-history.sh "$RESULTS" $HISTORY_COMMITS || echo "bench: commit history failed" >&2
fi

# tfjs, pure-JS CPU backend: one all-trainable step takes minutes, so the frozen modes are skipped.
if [ "$CPU_STEPS" -gt 0 ]; then
  run cpu-all node bench/train-step.mjs --backend cpu --mode all --warmup 0 --steps "$CPU_STEPS"
  SKIPPED='{"cpu-frozen-vision": "skipped to keep the run short", "cpu-projector-only": "skipped to keep the run short"}'
else
  SKIPPED='{"cpu-all": "CPU_STEPS=0", "cpu-frozen-vision": "CPU_STEPS=0", "cpu-projector-only": "CPU_STEPS=0"}'
fi

# tfjs, native TensorFlow (@tensorflow/tfjs-node): every mode when it starts.
run tensorflow-all node bench/train-step.mjs --backend tensorflow --mode all --warmup "$WASM_WARMUP" --steps "$WASM_STEPS"
if grep -q '"status":"measured"' "$RESULTS/tensorflow-all.json"; then
  for mode in frozen-vision projector-only; do
    run "tensorflow-$mode" node bench/train-step.mjs --backend tensorflow --mode "$mode" --warmup "$WASM_WARMUP" --steps "$WASM_STEPS"
  done
fi

# PyTorch (Debian's python3-torch).
if TORCH_ERROR=$("$PYTHON" -c "import torch" 2>&1); then
  TORCH_AVAILABLE=true
  TORCH_VERSION=$("$PYTHON" -c "import torch; print(torch.__version__)")
  TORCH_BLAS="BLAS_INFO=$("$PYTHON" -c "import re, torch; print(re.search(r'BLAS_INFO=([^,\s]+)', torch.__config__.show()).group(1))"), libblas.so.3 -> $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 || echo missing)"
  for mode in all frozen-vision projector-only; do
    run "torch-$mode" "$PYTHON" bench/torch_train_step.py --mode "$mode" --warmup "$TORCH_WARMUP" --steps "$TORCH_STEPS" --max-seconds "$TORCH_MAX_SECONDS"
  done
  # Like for like with mm: the LM head only at positions with a next-token target.
  run torch-all-trained-head "$PYTHON" bench/torch_train_step.py --mode all --lm-head trained --warmup "$TORCH_WARMUP" --steps "$TORCH_STEPS" --max-seconds "$TORCH_MAX_SECONDS"
else
  TORCH_AVAILABLE=false
  TORCH_VERSION=""
  TORCH_BLAS=""
  TORCH_ERROR="$PYTHON cannot import torch ($(echo "$TORCH_ERROR" | tail -n 1))"
fi

run preprocess node bench/preprocess.mjs --rounds 3

if python3 -c "import transformers" 2> /dev/null || "$PYTHON" -c "import transformers" 2> /dev/null; then
  TRANSFORMERS="installed, but not measured: bench/ has no script for transformers' processors yet"
else
  TRANSFORMERS="not measured: transformers is not installed here (neither python3 nor $PYTHON imports it)"
fi

FINISHED_AT=$(date -u '+%Y-%m-%d %H:%M')
LOAD_END=$(one_minute_load)

# meta.json, written by Node so that every value is JSON-escaped.
STARTED_AT=$STARTED_AT FINISHED_AT=$FINISHED_AT LOAD_START=$LOAD_START LOAD_END=$LOAD_END \
  NPROC=$NPROC CPU_MODEL="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') (family $(grep -m1 '^cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), model $(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' '))" \
  MEMORY=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) \
  PYTHON_VERSION=$("$PYTHON" -c "import platform; print(platform.python_version())") SKIPPED=$SKIPPED TRANSFORMERS=$TRANSFORMERS \
  HISTORY_COMMITS=$HISTORY_COMMITS \
  TORCH_AVAILABLE=$TORCH_AVAILABLE TORCH_VERSION=$TORCH_VERSION TORCH_BLAS=$TORCH_BLAS TORCH_ERROR=$TORCH_ERROR \
  node --input-type=module -e '
    import { readFileSync, writeFileSync } from "node:fs";
    import { dependencyVersion } from "./bench/lib/mm-packages.mjs";
    const env = process.env;
    const results = process.argv[1];
    writeFileSync(`${results}/meta.json`, JSON.stringify({
      startedAt: env.STARTED_AT, finishedAt: env.FINISHED_AT,
      loadStart: Number(env.LOAD_START), loadEnd: Number(env.LOAD_END),
      nproc: Number(env.NPROC), cpuModel: env.CPU_MODEL, memory: env.MEMORY,
      node: process.versions.node, tfjs: dependencyVersion("@tensorflow/tfjs"), tfjsWasm: dependencyVersion("@tensorflow/tfjs-backend-wasm"),
      python: env.PYTHON_VERSION,
      torch: env.TORCH_AVAILABLE === "true" ? { available: true, version: env.TORCH_VERSION, blas: env.TORCH_BLAS } : { available: false, reason: env.TORCH_ERROR },
      transformers: env.TRANSFORMERS,
      skipped: JSON.parse(env.SKIPPED),
      historyCommits: env.HISTORY_COMMITS.split(" ").filter((commit) => commit !== ""),
      commands: readFileSync(`${results}/commands.txt`, "utf8").trim().split("\n"),
    }, null, 2));
  ' "$RESULTS"

node bench/write-report.mjs --results "$RESULTS" --out "$OUT"
echo "bench: wrote $OUT (results in $RESULTS)" >&2
