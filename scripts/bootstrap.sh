#!/usr/bin/env bash
# Bootstrap a fresh Debian machine for SwarmOps: system packages, npm tools and the .venv.
# Idempotent: re-running only installs what is missing. Usage: scripts/bootstrap.sh [--python-only|--system-only]
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(postgresql postgresql-contrib prometheus prometheus-alertmanager prometheus-node-exporter
  prometheus-postgres-exporter prometheus-pushgateway prometheus-blackbox-exporter restic rclone nginx supervisor groovy rsync
  openjdk-17-jdk-headless chromium chromium-driver apache2-utils python3-venv python3-psycopg2 sudo acl
  openssh-server openssh-client python3-apt python3-passlib python3-cryptography python3-pytest python3-testinfra
  python3-requests)
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

# Every Python package at the version pinned in requirements.lock (`make lock` regenerates it from
# pyproject.toml). pip installs torch's CPU wheel and uv first, uv the rest (seconds where pip takes minutes).
LOCK=requirements.lock

lock_version() {  # the version requirements.lock pins for package $1
  sed -n "s/^$1==\([^ ]*\).*/\1/p" "$LOCK"
}

install_python() {
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  if [ -f .venv/.installed ] && [ ! pyproject.toml -nt .venv/.installed ] && [ ! "$LOCK" -nt .venv/.installed ]; then
    return 0
  fi
  local torch uv
  torch=$(lock_version torch)
  uv=$(lock_version uv)
  if [ -z "$torch" ] || [ -z "$uv" ]; then
    echo "bootstrap: $LOCK pins no torch or uv version; regenerate it with: make lock" >&2
    exit 1
  fi
  # torch first, through pip's own configuration (its find-links hold the CPU wheel here; elsewhere set
  # PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu): an unpinned resolve pulls a multi-GB CUDA build.
  .venv/bin/pip install -q "torch==$torch" "uv==$uv"
  .venv/bin/uv pip install --quiet --python .venv/bin/python -c "$LOCK" -e '.[dev]'
  touch .venv/.installed
}

case "${1:-}" in
  --python-only) install_python ;;
  --system-only) install_system ;;
  "") install_system; install_python ;;
  *) echo "bootstrap: unknown option '$1': use --python-only, --system-only or nothing" >&2; exit 2 ;;
esac
