#!/usr/bin/env bash
# Bootstrap a fresh Debian machine for SwarmOps: system packages, npm tools and the .venv.
# Idempotent: re-running only installs what is missing. Usage: scripts/bootstrap.sh [--python-only|--system-only]
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(postgresql postgresql-contrib prometheus prometheus-alertmanager prometheus-node-exporter
  prometheus-postgres-exporter prometheus-pushgateway prometheus-blackbox-exporter restic rclone nginx supervisor groovy rsync
  openjdk-17-jdk-headless chromium chromium-driver apache2-utils python3-venv python3-psycopg2 sudo acl)
NPM_PACKAGES=(gitlab-ci-local@4.65.1 configurable-http-proxy)

# Installs only what is missing. Without root it installs nothing: it names the missing packages and the
# command a root user runs, and exits 1 (CI agents run unprivileged: provision them once as root).
install_system() {
  local missing=() npm_missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  command -v gitlab-ci-local >/dev/null && command -v configurable-http-proxy >/dev/null || npm_missing=("${NPM_PACKAGES[@]}")
  if [ ${#missing[@]} -eq 0 ] && [ ${#npm_missing[@]} -eq 0 ]; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing system packages and not root; as root run:" >&2
    [ ${#missing[@]} -eq 0 ] || echo "  apt-get install --no-install-recommends ${missing[*]}" >&2
    [ ${#npm_missing[@]} -eq 0 ] || echo "  npm install -g ${npm_missing[*]}" >&2
    exit 1
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: apt installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ ${#npm_missing[@]} -gt 0 ]; then
    echo "bootstrap: npm installing ${npm_missing[*]}"
    npm install -g --silent "${npm_missing[@]}" >/dev/null
  fi
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

case "${1:-}" in
  --python-only) install_python ;;
  --system-only) install_system ;;
  "") install_system; install_python ;;
  *) echo "bootstrap: unknown option '$1': use --python-only, --system-only or nothing" >&2; exit 2 ;;
esac
