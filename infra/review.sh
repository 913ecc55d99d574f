#!/usr/bin/env bash
# Usage: infra/review.sh up|down MR [ansible-playbook options...]
# A review environment per merge request: the same roles, prefix /opt/swarmops/review-MR, ports
# 17000 + 100 * (MR % 100) .. +99. MR is the merge request number (CI_MERGE_REQUEST_IID).
source "$(dirname "$0")/lib.sh"
ACTION="${1:-}"
MR="${2:-}"
case "$ACTION" in up|down) ;; *) die "ACTION='$ACTION': use up or down" ;; esac
[[ "$MR" =~ ^[1-9][0-9]{0,5}$ ]] || die "MR='$MR' must be a merge request number (1-999999)"
shift 2
if [ "$ACTION" = up ]; then
  run_playbook "review-$MR" site.yml -e "swarmops_project_ref=$(project_ref)" \
    -e swarmops_monitoring_enabled=false "$@"
else
  run_playbook "review-$MR" teardown.yml "$@"
fi
