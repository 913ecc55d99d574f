#!/usr/bin/env bash
# Usage: infra/vault.sh ENV [view|add-missing]   (ENV: staging, production, review, test-<n>, test-review)
# Without an action: creates ENV's vault once (random secrets, encrypted) and refuses to overwrite one.
# view: prints it. add-missing: adds secrets introduced since, keeping every existing one.
source "$(dirname "$0")/lib.sh"
ENV_NAME="${1:-}"
# all review environments share one vault (the test suite's test-review ones another)
[ "$ENV_NAME" = review ] && ENV_NAME=review-1
[ "$ENV_NAME" = test-review ] && ENV_NAME=test-review-1
check_env "$ENV_NAME"
case "${2:-}" in
  "") write_vault "$ENV_NAME" create ;;
  add-missing) write_vault "$ENV_NAME" add-missing ;;
  view) ansible-vault view --vault-password-file "$VAULT_PASSWORD_FILE" "$(vault_file_for "$ENV_NAME")" ;;
  *) die "action '${2}': use view, add-missing or nothing (create)" ;;
esac
