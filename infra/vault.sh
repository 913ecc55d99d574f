#!/usr/bin/env bash
# Usage: infra/vault.sh staging|production|review [view]
# Generates the environment's secrets (once) into its Ansible Vault file, or shows them.
source "$(dirname "$0")/lib.sh"
case "${1:-}" in staging|production|review) ;; *) die "ENV='${1:-}': use staging, production or review" ;; esac
ensure_vault "$1"
if [ "${2:-}" = view ]; then
  ansible-vault view --vault-password-file "$VAULT_PASSWORD_FILE" "$(vault_file_for "$1")"
fi
