#!/usr/bin/env bash
# Bootstrap a fresh Debian machine for SwarmOps: system packages, npm tools and the .venv.
# Idempotent: re-running only installs what is missing. Usage: scripts/bootstrap.sh [--python-only]
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(postgresql postgresql-contrib prometheus prometheus-alertmanager prometheus-node-exporter
  prometheus-postgres-exporter prometheus-pushgateway prometheus-blackbox-exporter restic rclone nginx supervisor groovy rsync
  openjdk-17-jdk-headless chromium chromium-driver apache2-utils python3-venv python3-psycopg2 sudo acl)
NPM_PACKAGES=(gitlab-ci-local@4.65.1 configurable-http-proxy)

install_system() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: apt installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  command -v gitlab-ci-local >/dev/null && command -v configurable-http-proxy >/dev/null || {
    echo "bootstrap: npm installing ${NPM_PACKAGES[*]}"
    npm install -g --silent "${NPM_PACKAGES[@]}" >/dev/null
  }
}

install_python() {
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  # torch first: the CPU wheel on disk; a later unpinned resolve would pull a multi-GB CUDA build.
  .venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/pip install -q torch==2.13.0
  if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
    .venv/bin/pip install -q -e '.[dev]'
    touch .venv/.installed
  fi
}

if [ "${1:-}" != "--python-only" ]; then install_system; fi
install_python
