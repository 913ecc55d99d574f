#!/usr/bin/env bash
# Usage: infra/review.sh up|down MR
# A review environment per merge request: the same roles, prefix /opt/swarmops/review-MR, ports
# 17000 + 100 * (MR % 100) .. +99. MR is the merge request number (CI_MERGE_REQUEST_IID).
source "$(dirname "$0")/lib.sh"
ACTION="${1:-}"
MR="${2:-}"
case "$ACTION" in up|down) ;; *) die "ACTION='$ACTION': use up or down" ;; esac
[[ "$MR" =~ ^[1-9][0-9]{0,5}$ ]] || die "MR='$MR' must be a merge request number (1-999999)"
ensure_vault review
INVENTORY="$ANSIBLE_DIR/inventories/review/hosts.yml"
cd "$ANSIBLE_DIR"
if [ "$ACTION" = up ]; then
  REF="$(project_ref)"
  exec ansible-playbook -i "$INVENTORY" --vault-password-file "$VAULT_PASSWORD_FILE" \
    -e "swarmops_review_mr=$MR" -e "swarmops_project_ref=$REF" -e swarmops_monitoring_enabled=false "${@:3}" site.yml
fi
exec ansible-playbook -i "$INVENTORY" --vault-password-file "$VAULT_PASSWORD_FILE" \
  -e "swarmops_review_mr=$MR" "${@:3}" teardown.yml
