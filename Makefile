# SwarmOps: the only commands CI calls. Every target also runs on a laptop.
# Variables: SCENARIO=recon|watering PROFILE=smoke|default|gpu ENV=staging|production MR=<slug>
#            STAGING_ENV / PRODUCTION_ENV: the environments the pipeline deploys and promotes to
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
SWARMOPS := $(VENV)/bin/swarmops
PYTEST := $(VENV)/bin/pytest
SCENARIO ?= recon
PROFILE ?= smoke
ENV ?= staging
# What the pipeline's deploy/verify/promote jobs change (the pipeline's own tests point them at test-<n>).
STAGING_ENV ?= staging
PRODUCTION_ENV ?= production
REPORTS ?= reports
# the versioned scenario suite that evaluate, gate and the MR note score on (the pipeline's own tests
# point it at a three-field subset)
SUITE ?= data/scenarios
TRIALS ?= 20

.PHONY: help bootstrap bootstrap-python run test lint unit data infra drills drills-test review-test bench tracking-check train tune \
        evaluate gate vault deploy verify promote review-up review-down mr-note clean lock

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

bootstrap:  ## install system packages, npm tools and the .venv (idempotent)
	bash scripts/bootstrap.sh

bootstrap-python:  ## install only the .venv
	bash scripts/bootstrap.sh --python-only

lock: bootstrap-python  ## re-pin every dependency into requirements.lock (after editing pyproject.toml)
	bash scripts/lock.sh

run: bootstrap-python  ## main job: scenarios -> smoke training -> evaluation -> gate -> report (embedded defaults)
	$(SWARMOPS) pipeline --scenario $(SCENARIO) --profile $(PROFILE)

# Two pytest-xdist workers: tests sharing an expensive fixture (a deployment, a smoke training) run on one
# worker, in file order (tests/conftest.py); the rest spreads. TEST_WORKERS=0 runs everything in-process.
# The 25 slowest tests are listed at the end (the suite is CPU-bound: that list is where its time goes).
TEST_WORKERS ?= 2

test: bootstrap  ## the whole test suite (unit, data, infra, slow) on this machine
	mkdir -p $(REPORTS)
	$(PYTEST) -n $(TEST_WORKERS) --dist loadgroup --durations=25 --junitxml=$(REPORTS)/junit-all.xml tests

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
# promote: the release id that `make verify ENV=staging` wrote (GitLab hands it over as a dotenv
# variable, Jenkins as a stashed file); read from the environment in the recipe, never pasted into it.
RELEASE_ID ?= $(shell sed -n 's/^SWARMOPS_RELEASE_ID=//p' $(REPORTS)/release.env 2>/dev/null)
export RELEASE_ID
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

drills: bootstrap-python  ## reliability drills (faults, MLflow outage and upgrade, backup/restore, off-site): table + JSON
	mkdir -p $(REPORTS)
	$(SWARMOPS) drills --out $(REPORTS)/drills.json

drills-test: bootstrap-python  ## every drill healthy AND sabotaged, the heavy ones too (make test skips offsite, mlflow-upgrade)
	SWARMOPS_ALL_DRILLS=1 $(PYTEST) -q tests/swarmops/test_drills.py

review-test: bootstrap  ## two review environments at once (MR 7 and MR 107) up, isolated and down (opt-in, ~5 min)
	SWARMOPS_TEST_REVIEW=1 $(PYTEST) -q tests/infra/test_infra_review.py

bench: bootstrap-python  ## simulator and training benchmarks (table + JSON under bench/results)
	$(SWARMOPS) bench env
	$(SWARMOPS) bench train

tracking-check: $(PYDEPS)  ## CI: fail unless a protected-branch / MR job logs to the team's ledger + MLflow
	$(PY) -m ci tracking-check

train: $(PYDEPS) tracking-check  ## train one policy
	$(SWARMOPS) train --scenario $(SCENARIO) --profile $(PROFILE)

tune: $(PYDEPS)  ## one hyperparameter-search worker: TRIALS for study STUDY on SWARMOPS_TUNE_STORAGE (docs/tuning.md)
	$(SWARMOPS) tune --scenario $(SCENARIO) --profile $(PROFILE) --trials $(TRIALS) $(if $(STUDY),--study $(STUDY))

evaluate: $(PYDEPS) tracking-check  ## evaluate the latest run of SCENARIO: REPORTS/eval (metrics, plots, report) + metrics.txt
	mkdir -p $(REPORTS)  # a fresh CI checkout has none (the train job hands over runs/ only)
	$(SWARMOPS) evaluate latest --scenario $(SCENARIO) --suite $(SUITE) --out $(REPORTS)/eval --no-progress
	$(PY) -m ci metrics --candidate $(REPORTS)/eval/metrics.json --openmetrics $(REPORTS)/metrics.txt

gate: $(PYDEPS) tracking-check  ## quality gate: candidate vs @champion, non-zero exit if not better (REPORTS/gate.txt)
	mkdir -p $(REPORTS)
	set -o pipefail; $(SWARMOPS) gate --scenario $(SCENARIO) --suite $(SUITE) | tee $(REPORTS)/gate.txt

mr-note: $(PYDEPS) tracking-check  ## post/update the metrics note (candidate vs @champion) on merge request MR_IID
	rm -rf $(REPORTS)/champion-eval
	$(SWARMOPS) evaluate @champion --scenario $(SCENARIO) --suite $(SUITE) --out $(REPORTS)/champion-eval \
	  --no-progress \
	  || echo "mr-note: no @champion evaluation, the note shows the candidate alone"
	$(PY) -m ci gitlab note --mr "$(MR_IID)" --scenario $(SCENARIO) --candidate $(REPORTS)/eval/metrics.json \
	  --champion $(REPORTS)/champion-eval/metrics.json --gate $(REPORTS)/gate.txt

vault: $(PYDEPS)  ## create ENV's vault once (refuses to overwrite one; docs/environments.md)
	bash infra/vault.sh $(ENV)

deploy: $(SYSDEPS)  ## deploy the team stack to ENV with Ansible (needs ENV's vault: make vault)
	bash infra/deploy.sh $(ENV) $(INFRA_ARGS)

verify: $(SYSDEPS)  ## verify ENV with testinfra; the verified release id -> REPORTS/release.env
	mkdir -p $(REPORTS)
	bash infra/verify.sh $(ENV) -e verify_release_env=$(abspath $(REPORTS))/release.env $(INFRA_ARGS)

promote: $(SYSDEPS)  ## promote RELEASE_ID (what `make verify ENV=$STAGING_ENV` wrote) to PRODUCTION_ENV, or refuse
	@[[ "$$RELEASE_ID" =~ ^[A-Za-z0-9._-]+$$ ]] || { echo "promote: RELEASE_ID='$$RELEASE_ID' is not a release id:" \
	  "pass the one verify wrote to $(REPORTS)/release.env (SWARMOPS_RELEASE_ID=...)" >&2; exit 2; }
	bash infra/promote.sh $(STAGING_ENV) $(PRODUCTION_ENV) -e "promote_expected_release_id=$$RELEASE_ID" $(INFRA_ARGS)

review-up: $(SYSDEPS)  ## start the review environment for MR (its URL -> REPORTS/review.env)
	bash infra/review.sh up $(MR) $(INFRA_ARGS)
	$(PY) -m ci review-url --mr "$(MR)" --dotenv $(REPORTS)/review.env

review-down: $(PYDEPS)  ## stop the review environment for MR (Python venv only: no system bootstrap)
	bash infra/review.sh down $(MR) $(INFRA_ARGS)

# The runs root (SWARMOPS_RUNS_DIR, default runs/) holds the local ledger, MLflow registry and every
# trained model: `make clean` keeps it unless asked with CLEAN_RUNS=1.
RUNS_DIR := $(or $(SWARMOPS_RUNS_DIR),runs)

clean:  ## remove artifacts/, REPORTS and caches; the runs root (ledger, registry, models) only with CLEAN_RUNS=1
	rm -rf mlruns artifacts $(REPORTS) .pytest_cache
	@if [ "$(CLEAN_RUNS)" = 1 ]; then echo "clean: removing $(RUNS_DIR) (ledger, MLflow store, models)"; \
	  rm -rf "$(RUNS_DIR)"; \
	elif [ -e "$(RUNS_DIR)" ]; then echo "clean: kept $(RUNS_DIR) (ledger, MLflow registry, models):" \
	  "make clean CLEAN_RUNS=1 removes it"; fi
