#!/usr/bin/env bash
# Re-pin every dependency of pyproject.toml (all extras) into requirements.lock with uv.
# Run after editing pyproject.toml (`make lock`); tests/swarmops/test_lock.py fails until you do.
# The lock targets the machines SwarmOps runs on: CPython 3.11, Linux x86_64 (manylinux_2_28).
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-.venv/bin/uv}
# torch's CPU wheel: pip's find-links folder where there is one (these machines), else PyTorch's CPU index.
if [ -d "${TORCH_WHEELS:-/opt/wheels}" ]; then
  torch_source=(--find-links "${TORCH_WHEELS:-/opt/wheels}")
else
  torch_source=(--extra-index-url https://download.pytorch.org/whl/cpu --index-strategy unsafe-best-match)
fi
"$UV" pip compile pyproject.toml --all-extras --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
  "${torch_source[@]}" -c requirements/torch-cpu.txt --no-emit-find-links --no-emit-index-url \
  --custom-compile-command "make lock" --quiet -o requirements.lock "$@"
echo "lock: $(grep -c '==' requirements.lock) pinned packages in requirements.lock"
