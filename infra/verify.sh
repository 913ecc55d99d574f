#!/usr/bin/env bash
# Usage: infra/verify.sh staging|production
# Runs the testinfra suite (infra/verify/) against ENV; on success stamps its release as verified.
source "$(dirname "$0")/lib.sh"
ENV_NAME="${1:-}"
INVENTORY="$(inventory_for "$ENV_NAME")"
shift
ensure_vault "$ENV_NAME"
cd "$ANSIBLE_DIR"
exec ansible-playbook -i "$INVENTORY" --vault-password-file "$VAULT_PASSWORD_FILE" "$@" verify.yml
