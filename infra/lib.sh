#!/usr/bin/env bash
# Shared by infra/*.sh: paths, the venv on PATH, environment names, their vaults and run_playbook.
set -euo pipefail
INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$INFRA_DIR/.." && pwd)"
ANSIBLE_DIR="$INFRA_DIR/ansible"
VENV_BIN="${SWARMOPS_VENV_BIN:-$REPO_DIR/.venv/bin}"
export PATH="$VENV_BIN:$PATH"
export ANSIBLE_CONFIG="$ANSIBLE_DIR/ansible.cfg"
export ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-0}"
# Secrets live outside the working tree (a runner's `git clean` must not take them): one Ansible Vault
# file per environment under SWARMOPS_SECRETS_DIR, encrypted with the vault password file. A team that
# keeps them in its fork points SWARMOPS_SECRETS_DIR at a committed directory (docs/environments.md).
VAULT_PASSWORD_FILE="${SWARMOPS_VAULT_PASSWORD_FILE:-$HOME/.swarmops/vault-password}"
SECRETS_DIR="${SWARMOPS_SECRETS_DIR:-$HOME/.swarmops/secrets}"

die() { echo "$(basename "$0"): $*" >&2; exit 2; }

# check_env ENV: dies unless ENV is staging, production, review-<mr>, test-<n> or test-review-<mr> (the
# test suite's review environments). The test suite sets SWARMOPS_TEST_ENVS_ONLY=1: then only its
# throw-away test-* environments are accepted.
check_env() {
  local env="${1:-}"
  if [[ ! "$env" =~ ^(staging|production|(test-)?review-[1-9][0-9]{0,5}|test-[1-9][0-9]?)$ ]]; then
    # ${env@Q}: quoted the way bash reads it back, so a name with a newline still prints on one line
    die "ENV=${env@Q} is not an environment: use staging, production, review-<mr>, test-<n> (n = 1..99)" \
      "or test-review-<mr>"
  fi
  if [ "${SWARMOPS_TEST_ENVS_ONLY:-}" = 1 ] && [[ "$env" != test-* ]]; then
    die "ENV=${env@Q} refused: SWARMOPS_TEST_ENVS_ONLY=1 allows only test-<n> environments"
  fi
}

inventory_for() {  # ENV -> its inventory file (review-*, test-review-* and test-* share one each)
  check_env "$1"
  case "$1" in
    review-*|test-review-*) echo "$ANSIBLE_DIR/inventories/review/hosts.yml" ;;
    *) echo "$ANSIBLE_DIR/inventories/${1%%-*}/hosts.yml" ;;
  esac
}

env_extra_vars() {  # ENV [SLOT] -> the extra vars naming it inside a shared inventory, one per line
  case "$1" in
    review-*|test-review-*)
      printf '%s\n' -e "swarmops_review_mr=${1##*review-}" -e "swarmops_review_namespace=${1%%review-*}review" \
        -e "swarmops_review_slot=${2:-0}" ;;
    test-*) printf '%s\n' -e "swarmops_test_env=$1" ;;
  esac
}

vault_file_for() {  # ENV -> its vault file (review environments share the `review` vault, tests theirs)
  check_env "$1"
  local name="$1"
  case "$name" in
    review-*) name=review ;;
    test-review-*) name=test-review ;;
  esac
  echo "$SECRETS_DIR/$name.vault.yml"
}

# Review slots: slot s (1..250) gives a review environment the address 127.0.2.s (its ports are those of
# every environment). The registry lives on the review host (review-slot.yml: root-owned, changed under a
# flock there), so runners keep no state and two runners cannot hand out the same slot.
review_slot() {  # ENV [claim|release] -> its slot (0: none); `claim`: the lowest free one the first time
  local env="$1" action="${2:-lookup}" out slot
  out="$(mktemp)"
  # shellcheck disable=SC2064  # expand now: the trap must remove this call's file
  trap "rm -f '$out'" RETURN
  run_playbook "$env" review-slot.yml -e "review_slot_action=$action" -e "review_slot_out=$out" >&2 \
    || die "could not $action the review slot of $env on the review host (the Ansible output above says why)"
  slot="$(cat "$out")"
  [[ "$slot" =~ ^[0-9]+$ ]] || die "the review host answered '$slot' for the slot of $env, not a number"
  echo "$slot"
}

# Secrets of every environment: name -> openssl rand -hex length (bytes).
VAULT_KEYS=(postgres_mlflow_password:24 postgres_ledger_password:24 postgres_exporter_password:24
  nginx_password:24 restic_password:24 jupyterhub_proxy_token:24 jupyterhub_admin_password:24
  jupyterhub_cookie_secret:32 monitoring_jupyterhub_api_token:24 mlflow_admin_password:24
  mlflow_flask_secret_key:32 monitoring_scrape_password:24 monitoring_proxy_password:24 monitoring_push_password:24)

# write_vault ENV MODE: MODE=create makes the vault (refuses if it exists); MODE=add-missing adds the
# secrets introduced since it was made and never changes an existing one.
write_vault() {
  local env="$1" mode="$2" vault current tmp key name bytes added=0
  vault="$(vault_file_for "$env")"
  if [ "$mode" = create ]; then
    [ ! -e "$vault" ] || die "$vault exists: a vault is created once and never overwritten" \
      "(infra/vault.sh $env view shows it; add-missing adds new keys)"
    if [ ! -s "$VAULT_PASSWORD_FILE" ]; then
      (umask 077; mkdir -p "$(dirname "$VAULT_PASSWORD_FILE")"; openssl rand -hex 32 > "$VAULT_PASSWORD_FILE")
      echo "$(basename "$0"): created vault password file $VAULT_PASSWORD_FILE: keep it safe" >&2
    fi
    current=$'---\n# Created by infra/vault.sh; encrypted with the vault password file.'
  else
    [ -f "$vault" ] || die "no vault for $env ($vault): create it once with infra/vault.sh $env"
    current="$(ansible-vault view --vault-password-file "$VAULT_PASSWORD_FILE" "$vault" 2>/dev/null)" \
      || die "$vault does not decrypt with $VAULT_PASSWORD_FILE (wrong SWARMOPS_VAULT_PASSWORD_FILE?)"
  fi
  for key in "${VAULT_KEYS[@]}"; do
    name="vault_${key%%:*}"; bytes="${key##*:}"
    if ! grep -q "^$name:" <<<"$current"; then
      current+=$'\n'"$name: \"$(openssl rand -hex "$bytes")\""
      added=$((added + 1))
    fi
  done
  [ "$added" -eq 0 ] && return 0
  (umask 077; mkdir -p "$(dirname "$vault")")
  tmp="$(mktemp "$vault.XXXXXX")"
  printf '%s\n' "$current" > "$tmp"
  ansible-vault encrypt --vault-password-file "$VAULT_PASSWORD_FILE" "$tmp" >/dev/null
  chmod 0600 "$tmp"
  if [ "$mode" = create ]; then
    # no-clobber link: a vault created meanwhile by someone else wins, ours is discarded
    ln "$tmp" "$vault" 2>/dev/null || { rm -f "$tmp"; die "$vault appeared meanwhile: not overwritten"; }
    rm -f "$tmp"
  else
    mv "$tmp" "$vault"
  fi
  echo "$(basename "$0"): $added secret(s) written to $vault" >&2
}

project_ref() {  # the commit a deployment installs: SWARMOPS_PROJECT_REF or HEAD, as a full sha
  git -C "$REPO_DIR" rev-parse --verify "${SWARMOPS_PROJECT_REF:-HEAD}^{commit}"
}

# stdin to stdout line by line, as it comes (awk would hold lines back: mawk buffers its input); returns
# 3 when a line carried Mitogen's "sudo password is required".
_watch_sudo_failure() {
  local line asked=0
  while IFS= read -r line || [ -n "$line" ]; do
    printf '%s\n' "$line"
    if [[ "$line" == *"sudo password is required"* ]]; then asked=3; fi
  done
  return "$asked"
}

# run_playbook ENV PLAYBOOK [ansible-playbook options...]: the one way infra/*.sh run Ansible. Needs
# ENV's vault (it never creates one) unless only --syntax-check is asked (parses, touches no host).
run_playbook() {
  local env="$1" playbook="$2" inventory vault slot="" args=()
  shift 2
  inventory="$(inventory_for "$env")"
  if [[ "$env" == *review-* && "$playbook" != review-slot.yml && " $* " != *" --syntax-check "* ]]; then
    slot="$(review_slot "$env")"  # claimed by infra/review.sh up; 0 (none) for a teardown without one
  fi
  mapfile -t args < <(env_extra_vars "$env" "$slot")
  if [[ " $* " != *" --syntax-check "* ]]; then
    vault="$(vault_file_for "$env")"
    [ -f "$vault" ] || die "no vault for $env ($vault): create it once with infra/vault.sh $env"
    [ -s "$VAULT_PASSWORD_FILE" ] || die "no vault password file $VAULT_PASSWORD_FILE (set SWARMOPS_VAULT_PASSWORD_FILE)"
    args+=(--vault-password-file "$VAULT_PASSWORD_FILE" -e "@$vault")
  fi
  # stdout passes through _watch_sudo_failure (no temp file: a killed deploy leaves nothing behind);
  # stderr untouched
  local statuses
  { (cd "$ANSIBLE_DIR" && ansible-playbook -i "$inventory" "${args[@]}" "$@" "$playbook") | _watch_sudo_failure
    statuses=("${PIPESTATUS[@]}"); } || true
  if [ "${statuses[0]}" -ne 0 ] && [ "${statuses[1]}" -eq 3 ]; then
    # Mitogen's become runs `sudo -- python3`, which the sudo rule of hosts provisioned before it lacks
    echo "$(basename "$0"): $env: a host asked for a sudo password: rerun infra/ansible/target.yml on it" \
      "(its sudo rule predates Mitogen; docs/environments.md, 'The sudo rule'), or run with" \
      "ANSIBLE_STRATEGY=linear" >&2
  fi
  return "${statuses[0]}"
}
