#!/usr/bin/env bash
# Usage: infra/restore.sh staging|production [ansible-playbook options, e.g. -e restore_keep=true]
# Restores ENV's latest backup into a scratch location and verifies it (infra/ansible/restore.yml).
source "$(dirname "$0")/lib.sh"
ENV_NAME="${1:-}"
INVENTORY="$(inventory_for "$ENV_NAME")"
shift
ensure_vault "$ENV_NAME"
cd "$ANSIBLE_DIR"
exec ansible-playbook -i "$INVENTORY" --vault-password-file "$VAULT_PASSWORD_FILE" "$@" restore.yml
