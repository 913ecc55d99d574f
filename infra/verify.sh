#!/usr/bin/env bash
# Usage: infra/verify.sh ENV [ansible-playbook options...]
# Runs the testinfra suite (infra/verify/) against ENV; on success stamps its release as verified.
source "$(dirname "$0")/lib.sh"
ENV_NAME="${1:-}"
check_env "$ENV_NAME"
shift
run_playbook "$ENV_NAME" verify.yml "$@"
