#!/usr/bin/env bash
# Usage: infra/deploy.sh ENV [ansible-playbook options...]   (ENV: staging, production, test-<n>)
# Deploys the stack (infra/ansible/site.yml) to ENV at the current commit (or SWARMOPS_PROJECT_REF).
source "$(dirname "$0")/lib.sh"
ENV_NAME="${1:-}"
check_env "$ENV_NAME"
shift
run_playbook "$ENV_NAME" site.yml -e "swarmops_project_ref=$(project_ref)" "$@"
