#!/usr/bin/env bash
# Benchmark tooling, not part of `npm test`. Times the all-trainable WASM training step of the
# reference model at earlier commits with this checkout's bench/ scripts, so that a speed-up is
# measured against its starting point in the same run, on the same machine. bench/run.sh calls it;
# it can also run alone:
#
#   bash bench/commit-history.sh RESULTS_DIR COMMIT...
#
# Each commit is checked out in a git worktree in a new temporary folder, installed with pnpm and
# built with tsup. This checkout's bench/ is copied into it, and `node bench/train-step.mjs
# --backend wasm --mode all` runs there. Its JSON goes to RESULTS_DIR/history-COMMIT.json. The
# lockfile is not frozen, because some early commits' lockfiles lag behind their package.json.
# Environment: HISTORY_STEPS=3 timed steps, HISTORY_WARMUP=2 untimed steps first.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
  echo "usage: bash bench/commit-history.sh RESULTS_DIR COMMIT..." >&2
  exit 2
fi
RESULTS=$1
shift
HISTORY_STEPS=${HISTORY_STEPS:-3}
HISTORY_WARMUP=${HISTORY_WARMUP:-2}
WORK=$(mktemp -d /tmp/mm-bench-history.XXXXXX)
trap 'for tree in "$WORK"/*; do git worktree remove --force "$tree" 2> /dev/null || true; done; rm -rf "$WORK"' EXIT

for commit in "$@"; do
  tree="$WORK/$commit"
  echo "bench: history-$commit" >&2
  git worktree add --detach --quiet "$tree" "$commit"
  (
    cd "$tree"
    npx --yes pnpm@10.34.9 install --no-frozen-lockfile --prefer-offline > "$RESULTS/history-$commit.install.log" 2>&1
    for package in core models processor trainer; do
      (cd "packages/$package" && npx tsup > /dev/null)
    done
  ) || {
    echo "bench: install or build of $commit failed; see $RESULTS/history-$commit.install.log" >&2
    continue
  }
  rm -rf "$tree/bench"
  cp -r bench "$tree/bench"
  (cd "$tree" && node bench/train-step.mjs --backend wasm --mode all --warmup "$HISTORY_WARMUP" --steps "$HISTORY_STEPS") \
    > "$RESULTS/history-$commit.json" 2> "$RESULTS/history-$commit.err" || echo "bench: history-$commit failed; see $RESULTS/history-$commit.err" >&2
  git log -1 --format='%h%x09%s' "$commit" > "$RESULTS/history-$commit.subject"
done
