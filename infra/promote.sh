#!/usr/bin/env bash
# Usage: infra/promote.sh [FROM TO] [ansible-playbook options...]   (default: staging production)
# Promotes the release running on FROM to TO: re-verifies FROM, fetches FROM's release record and stamp
# to a private controller directory (release-fetch.yml), refuses unless that release is verified, deploys
# exactly its versions to TO, verifies TO, and rolls TO back to its previous release (then verifies TO
# again) if the deployment or the verification fails. FROM/TO: staging -> production, or test-<n> ->
# test-<m>. The two hosts never read each other's files: everything passes through the controller.
source "$(dirname "$0")/lib.sh"
FROM=staging TO=production
if [ $# -ge 2 ] && [[ "$1" != -* ]]; then FROM="$1" TO="$2"; shift 2; fi
check_env "$FROM"
check_env "$TO"
if ! [[ "$FROM/$TO" == staging/production || ("$FROM" == test-* && "$TO" == test-* && "$FROM" != "$TO") ]]; then
  die "promotion $FROM -> $TO: allowed are staging -> production and test-<n> -> test-<m>"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/swarmops-promote-XXXXXX")"  # private (0700), random name
trap 'rm -rf "$WORK"' EXIT
echo "promote: verifying $FROM" >&2
if ! bash "$INFRA_DIR/verify.sh" "$FROM" "$@"; then
  echo "promote: REFUSED: $FROM does not pass verification; $TO untouched" >&2
  exit 1
fi
run_playbook "$FROM" release-fetch.yml -e "promote_work_dir=$WORK" "$@" >&2 \
  || { echo "promote: REFUSED: cannot fetch $FROM's release; $TO untouched" >&2; exit 1; }
set +e
run_playbook "$TO" promote.yml -e "promote_work_dir=$WORK" "$@"
rc=$?
set -e
if [ $rc -eq 0 ]; then
  echo "promote: $TO runs the verified $FROM release" >&2; exit 0
fi
if [ ! -f "$WORK/promote-started" ]; then
  echo "promote: REFUSED by the release gate; $TO untouched" >&2; exit 1
fi
if [ -f "$WORK/previous-release.yml" ]; then
  echo "promote: FAILED after changing $TO: rolling back to the previous release" >&2
  if ! run_playbook "$TO" site.yml -e "@$WORK/previous-release.yml" "$@"; then
    echo "promote: ROLLBACK FAILED: $TO needs a person now" >&2
  elif bash "$INFRA_DIR/verify.sh" "$TO" "$@"; then
    echo "promote: rolled back; $TO runs its previous release again and passes verification" >&2
  else
    echo "promote: ROLLBACK NOT VERIFIED: $TO runs its previous release but fails verification" >&2
  fi
fi
exit 1
