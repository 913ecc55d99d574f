#!/usr/bin/env bash
# Usage: infra/promote.sh [ansible-playbook options...]
# Promotes the release running on staging to production: re-verifies staging, refuses unless that
# release is verified, deploys exactly its versions to production, verifies production, and rolls
# production back to its previous release if the deployment or the verification fails.
source "$(dirname "$0")/lib.sh"
ensure_vault staging
ensure_vault production
PROD_INVENTORY="$(inventory_for production)"
PROD_STATE=/opt/swarmops/production/state
echo "promote: verifying staging" >&2
if ! bash "$INFRA_DIR/verify.sh" staging "$@"; then
  echo "promote: REFUSED: staging does not pass verification; production untouched" >&2
  exit 1
fi
cd "$ANSIBLE_DIR"
set +e
ansible-playbook -i "$PROD_INVENTORY" --vault-password-file "$VAULT_PASSWORD_FILE" "$@" promote.yml
rc=$?
set -e
if [ $rc -eq 0 ]; then
  echo "promote: production runs the verified staging release" >&2; exit 0
fi
if [ ! -f "$PROD_STATE/promote-started" ]; then
  echo "promote: REFUSED by the release gate; production untouched" >&2; exit 1
fi
if [ -f "$PROD_STATE/previous-release.yml" ]; then
  echo "promote: FAILED after changing production: rolling back to the previous release" >&2
  ansible-playbook -i "$PROD_INVENTORY" --vault-password-file "$VAULT_PASSWORD_FILE" \
    -e "@$PROD_STATE/previous-release.yml" "$@" site.yml || echo "promote: ROLLBACK FAILED" >&2
fi
exit 1
