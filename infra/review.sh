#!/usr/bin/env bash
# Usage: infra/review.sh up|down MR [ansible-playbook options...]
# A review environment per merge request (MR: CI_MERGE_REQUEST_IID): the same roles without monitoring,
# prefix /opt/swarmops/review-MR, on the address and ports of the slot it claims in the registry on the
# review host (review-slot.yml: address 127.0.2.<slot>), reached at https://mr-MR.<review domain>/ through
# the review front door (review-frontdoor.yml). SWARMOPS_REVIEW_ENV_PREFIX=test- makes it the test
# suite's test-review-MR (own vault, own front door), the only kind SWARMOPS_TEST_ENVS_ONLY=1 allows.
source "$(dirname "$0")/lib.sh"
ACTION="${1:-}"
MR="${2:-}"
case "$ACTION" in up|down) ;; *) die "ACTION='$ACTION': use up or down" ;; esac
[[ "$MR" =~ ^[1-9][0-9]{0,5}$ ]] || die "MR='$MR' must be a merge request number (1-999999)"
PREFIX="${SWARMOPS_REVIEW_ENV_PREFIX:-}"
[[ "$PREFIX" =~ ^(test-)?$ ]] || die "SWARMOPS_REVIEW_ENV_PREFIX='$PREFIX': use nothing or test-"
ENV_NAME="${PREFIX}review-$MR"
check_env "$ENV_NAME"
shift 2
if [[ " $* " == *" --syntax-check "* ]]; then
  # CI's dry run: parse the playbooks only; no vault, slot or front door is needed or touched
  run_playbook "$ENV_NAME" "$([ "$ACTION" = up ] && echo site.yml || echo teardown.yml)" "$@"
  run_playbook "$ENV_NAME" review-frontdoor.yml "$@"
  exit 0
fi
if [ "$ACTION" = up ]; then
  [ -f "$(vault_file_for "$ENV_NAME")" ] || die "no vault for $ENV_NAME ($(vault_file_for "$ENV_NAME")):" \
    "create it once with infra/vault.sh ${PREFIX}review"
  review_slot "$ENV_NAME" claim >/dev/null
  run_playbook "$ENV_NAME" site.yml -e "swarmops_project_ref=$(project_ref)" \
    -e swarmops_monitoring_enabled=false "$@"
else
  run_playbook "$ENV_NAME" teardown.yml "$@"
  review_slot "$ENV_NAME" release >/dev/null
fi
# this environment's route on the front door: added after up, removed after down (each environment owns
# its own route file, so two merge requests finishing at once cannot drop each other's route)
run_playbook "$ENV_NAME" review-frontdoor.yml "$@"
