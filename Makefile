# SwarmOps: the only commands CI calls. Every target also runs on a laptop.
# Variables: SCENARIO=recon|watering PROFILE=smoke|default|gpu ENV=staging|production MR=<slug>
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
SWARMOPS := $(VENV)/bin/swarmops
PYTEST := $(VENV)/bin/pytest
SCENARIO ?= recon
PROFILE ?= smoke
ENV ?= staging
REPORTS ?= reports

.PHONY: help bootstrap bootstrap-python run test lint unit data infra bench train evaluate gate \
        vault deploy verify promote review-up review-down mr-note clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

bootstrap:  ## install system packages, npm tools and the .venv (idempotent)
	bash scripts/bootstrap.sh

bootstrap-python:  ## install only the .venv
	bash scripts/bootstrap.sh --python-only

run: bootstrap-python  ## main job: scenarios -> smoke training -> evaluation -> gate -> report (embedded defaults)
	$(SWARMOPS) pipeline --scenario $(SCENARIO) --profile $(PROFILE)

test: bootstrap  ## the whole test suite (unit, data, infra, slow) on this machine
	mkdir -p $(REPORTS)
	$(PYTEST) --junitxml=$(REPORTS)/junit-all.xml tests

# ---- Pipeline stage targets (ci/ area): Jenkinsfile and .gitlab-ci.yml call only these. ----
# A runner that brings its own ready venv (VENV=/path: a CI image, the pipeline self-tests) skips the
# bootstrap prerequisites, because scripts/bootstrap.sh only manages ./.venv.
ifeq ($(VENV),.venv)
PYDEPS := bootstrap-python
SYSDEPS := bootstrap
endif
# SWARMOPS_CI_SMALL=1: tiny sizes for the pipeline self-tests (tests/ci runs real jobs under
# gitlab-ci-local): the test stages run only the CI tooling's HTTP-level tests and the infra scripts
# only parse their playbooks. Real runners leave it unset.
ifeq ($(SWARMOPS_CI_SMALL),1)
TEST_PATHS ?= tests/ci/test_ci_jenkins_api.py tests/ci/test_ci_gitlab_api.py
# infra/*.sh hand extra arguments to ansible-playbook: parse the playbooks, touch no host.
INFRA_ARGS ?= --syntax-check
else
TEST_PATHS ?= tests
endif
# infra/lib.sh puts this on PATH (ansible-playbook, ansible-vault): the same venv as the other stages.
export SWARMOPS_VENV_BIN ?= $(abspath $(VENV))/bin

lint: $(PYDEPS)  ## flake8 + yamllint + ansible-lint
	$(VENV)/bin/flake8
	PATH=$(abspath $(VENV))/bin:$$PATH $(VENV)/bin/yamllint -c ci/yamllint.yml -s .
	cd infra/ansible && PATH=$(abspath $(VENV))/bin:$$PATH ansible-lint

unit: $(PYDEPS)  ## unit tests only (JUnit XML under REPORTS)
	mkdir -p $(REPORTS)
	$(PYTEST) -m "unit and not slow" --junitxml=$(REPORTS)/junit-unit.xml $(TEST_PATHS)

data: $(PYDEPS)  ## data tests (scenario suite, DVC)
	mkdir -p $(REPORTS)
	$(PYTEST) -m data --junitxml=$(REPORTS)/junit-data.xml $(TEST_PATHS)

infra: $(SYSDEPS)  ## infra tests (ansible, servers, CI runners)
	mkdir -p $(REPORTS)
	$(PYTEST) -m infra --junitxml=$(REPORTS)/junit-infra.xml $(TEST_PATHS)

bench: bootstrap-python  ## simulator and training benchmarks (table + JSON under bench/results)
	$(SWARMOPS) bench env
	$(SWARMOPS) bench train

train: $(PYDEPS)  ## train one policy
	$(SWARMOPS) train --scenario $(SCENARIO) --profile $(PROFILE)

evaluate: $(PYDEPS)  ## evaluate the latest run of SCENARIO: REPORTS/eval (metrics, plots, report) + metrics.txt
	$(SWARMOPS) evaluate latest --scenario $(SCENARIO) --out $(REPORTS)/eval --no-progress
	$(PY) -m ci metrics --candidate $(REPORTS)/eval/metrics.json --openmetrics $(REPORTS)/metrics.txt

gate: $(PYDEPS)  ## quality gate: candidate vs @champion, non-zero exit if not better (REPORTS/gate.txt)
	mkdir -p $(REPORTS)
	set -o pipefail; $(SWARMOPS) gate --scenario $(SCENARIO) | tee $(REPORTS)/gate.txt

mr-note: $(PYDEPS)  ## post/update the metrics note (candidate vs @champion) on merge request MR_IID
	rm -rf $(REPORTS)/champion-eval
	$(SWARMOPS) evaluate @champion --scenario $(SCENARIO) --out $(REPORTS)/champion-eval --no-progress \
	  || echo "mr-note: no @champion evaluation, the note shows the candidate alone"
	$(PY) -m ci gitlab note --mr "$(MR_IID)" --scenario $(SCENARIO) --candidate $(REPORTS)/eval/metrics.json \
	  --champion $(REPORTS)/champion-eval/metrics.json --gate $(REPORTS)/gate.txt

vault: $(PYDEPS)  ## create ENV's vault once (refuses to overwrite one; docs/environments.md)
	bash infra/vault.sh $(ENV)

deploy: $(SYSDEPS)  ## deploy the team stack to ENV with Ansible (needs ENV's vault: make vault)
	bash infra/deploy.sh $(ENV) $(INFRA_ARGS)

verify: $(SYSDEPS)  ## verify ENV with testinfra
	bash infra/verify.sh $(ENV) $(INFRA_ARGS)

promote: $(SYSDEPS)  ## promote the verified staging release to production
	bash infra/promote.sh $(INFRA_ARGS)

review-up: $(SYSDEPS)  ## start the review environment for MR (its URL -> REPORTS/review.env)
	bash infra/review.sh up $(MR) $(INFRA_ARGS)
	$(PY) -m ci review-url --mr "$(MR)" --dotenv $(REPORTS)/review.env

review-down: $(SYSDEPS)  ## stop the review environment for MR
	bash infra/review.sh down $(MR) $(INFRA_ARGS)

clean:  ## remove run outputs (keeps .venv)
	rm -rf runs mlruns artifacts $(REPORTS) .pytest_cache
