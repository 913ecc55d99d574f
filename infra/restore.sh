#!/usr/bin/env bash
# Usage: infra/restore.sh ENV [ansible-playbook options, e.g. -e restore_keep=true]
# Restores ENV's latest backup into a scratch location and verifies it (infra/ansible/restore.yml).
source "$(dirname "$0")/lib.sh"
ENV_NAME="${1:-}"
check_env "$ENV_NAME"
shift
run_playbook "$ENV_NAME" restore.yml "$@"
