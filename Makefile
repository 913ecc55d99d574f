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
        deploy verify promote review-up review-down clean

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

lint: bootstrap-python  ## flake8 + yamllint + ansible-lint
	$(VENV)/bin/flake8
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/yamllint -s .
	cd infra/ansible && PATH=$(CURDIR)/$(VENV)/bin:$$PATH ansible-lint

unit: bootstrap-python  ## unit tests only
	mkdir -p $(REPORTS)
	$(PYTEST) -m "unit and not slow" --junitxml=$(REPORTS)/junit-unit.xml tests

data: bootstrap-python  ## data tests (scenario suite, DVC)
	mkdir -p $(REPORTS)
	$(PYTEST) -m data --junitxml=$(REPORTS)/junit-data.xml tests

infra: bootstrap  ## infra tests (ansible, servers, CI runners)
	mkdir -p $(REPORTS)
	$(PYTEST) -m infra --junitxml=$(REPORTS)/junit-infra.xml tests

bench: bootstrap-python  ## simulator and training benchmarks (table + JSON under bench/results)
	$(SWARMOPS) bench env
	$(SWARMOPS) bench train

train: bootstrap-python  ## train one policy
	$(SWARMOPS) train --scenario $(SCENARIO) --profile $(PROFILE)

evaluate: bootstrap-python  ## evaluate the latest run of SCENARIO on the scenario suite
	$(SWARMOPS) evaluate latest --scenario $(SCENARIO)

gate: bootstrap-python  ## quality gate: candidate vs @champion, non-zero exit if not better
	$(SWARMOPS) gate --scenario $(SCENARIO)

deploy: bootstrap  ## deploy the team stack to ENV with Ansible
	bash infra/deploy.sh $(ENV)

verify: bootstrap  ## verify ENV with testinfra
	bash infra/verify.sh $(ENV)

promote: bootstrap  ## promote the verified staging release to production
	bash infra/promote.sh

review-up: bootstrap  ## start the review environment for MR
	bash infra/review.sh up $(MR)

review-down: bootstrap  ## stop the review environment for MR
	bash infra/review.sh down $(MR)

clean:  ## remove run outputs (keeps .venv)
	rm -rf runs mlruns artifacts $(REPORTS) .pytest_cache
