#!/usr/bin/env bash
# Usage: infra/deploy.sh staging|production [ansible-playbook options...]
# Deploys the stack (infra/ansible/site.yml) to ENV at the current commit (or SWARMOPS_PROJECT_REF).
source "$(dirname "$0")/lib.sh"
ENV_NAME="${1:-}"
INVENTORY="$(inventory_for "$ENV_NAME")"
shift
ensure_vault "$ENV_NAME"
REF="$(project_ref)"
cd "$ANSIBLE_DIR"
exec ansible-playbook -i "$INVENTORY" --vault-password-file "$VAULT_PASSWORD_FILE" \
  -e "swarmops_project_ref=$REF" "$@" site.yml
