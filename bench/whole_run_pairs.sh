#!/usr/bin/env bash
# Whole `swarmops train --profile default` runs of two source trees, alternated, one JSON line each.
#
# The figure a user waits on is a whole run's agent-steps/s (and its wall time), and this shared
# machine's speed moves 20-40 % from one minute to the next, so the two trees run back to back and
# the order flips every round. Each run uses the embedded stores in its own scratch folder.
#
#   git worktree add /tmp/filing de55e80
#   bench/whole_run_pairs.sh /tmp/filing "$PWD" 2 >> bench/results/whole-run-pairs.jsonl
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 TREE_A TREE_B ROUNDS (two source trees, e.g. git worktrees; rounds >= 1)" >&2
  exit 2
fi
tree_a=$(cd "$1" && pwd) tree_b=$(cd "$2" && pwd) rounds=$3
python=${PYTHON:-$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python}

run() {  # TREE: one whole run, one JSON line on stdout
  local tree=$1 scratch
  scratch=$(mktemp -d /tmp/swarmops-pair-XXXXXX)
  local start end line
  start=$(date +%s.%N)
  line=$(cd "$tree" && env -u SWARMOPS_DB_URL -u MLFLOW_TRACKING_URI SWARMOPS_RUNS_DIR="$scratch" \
    PYTHONPATH="$tree" "$python" -m swarmops train --scenario recon --profile default --no-progress 2>&1 \
    | grep -o '[0-9,]* agent-steps at [0-9,]* agent-steps/s' | tail -1)
  end=$(date +%s.%N)
  rm -rf "$scratch"
  local rate=${line##* at }
  rate=${rate%% *}
  printf '{"tree": "%s", "commit": "%s", "agent_steps_per_s": %s, "wall_s": %.1f, "load_average": %s}\n' \
    "$tree" "$(git -C "$tree" rev-parse --short HEAD)" "${rate//,/}" "$(echo "$end - $start" | bc)" \
    "$(cut -d' ' -f1 /proc/loadavg)"
}

for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then run "$tree_a"; run "$tree_b"; else run "$tree_b"; run "$tree_a"; fi
done
