"""The pipeline's stages: the one list that Jenkinsfile, .gitlab-ci.yml and the README picture follow.

Each stage is one make target that also runs on a laptop; the CI files only call these targets
(tests/ci checks both files against this list).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    """One pipeline stage.

    Attributes:
        key: short name used in this module and in tests.
        make: the make target (with its variables) that runs the stage.
        jenkins: the stage name in Jenkinsfile.
        gitlab: the job name in .gitlab-ci.yml.
        when: ``always``, ``default-branch`` (main only), ``merge-request`` or ``manual`` (main only,
            after a person approves).
    """

    key: str
    make: str
    jenkins: str
    gitlab: str
    when: str = "always"


STAGES: tuple[Stage, ...] = (
    Stage("lint", "make lint", "Lint", "lint"),
    Stage("unit", "make unit", "Unit tests", "unit"),
    Stage("data", "make data", "Data tests", "data"),
    Stage("infra", "make infra", "Infra tests", "infra"),
    Stage("train", "make train SCENARIO=... PROFILE=...", "Train", "train"),
    Stage("evaluate", "make evaluate SCENARIO=...", "Evaluate", "evaluate"),
    Stage("gate", "make gate SCENARIO=...", "Gate", "gate"),
    Stage("review-up", "make review-up MR=...", "Review environment", "review", "merge-request"),
    Stage("mr-note", "make mr-note MR_IID=... SCENARIO=...", "Metrics note", "metrics-note",
          "merge-request"),
    Stage("review-down", "make review-down MR=...", "Review teardown", "stop-review", "merge-request"),
    Stage("deploy", "make deploy ENV=$STAGING_ENV", "Deploy staging", "deploy-staging", "default-branch"),
    Stage("verify", "make verify ENV=$STAGING_ENV", "Verify staging", "verify-staging", "default-branch"),
    Stage("promote", "make promote RELEASE_ID=...", "Promote to production", "production", "manual"),
)

#: GitLab jobs expected in each kind of pipeline (rules evaluated), in stage order.
BRANCH_JOBS = tuple(s.gitlab for s in STAGES if s.when == "always")
MERGE_REQUEST_JOBS = BRANCH_JOBS + ("review", "stop-review")
DEFAULT_BRANCH_JOBS = BRANCH_JOBS + ("deploy-staging", "verify-staging", "production")


def make_target(stage: Stage) -> str:
    """The bare make target of a stage (``make deploy ENV=staging`` -> ``deploy``)."""
    return stage.make.split()[1]


def by_key(key: str) -> Stage:
    """The stage called ``key``; a ValueError names the allowed keys otherwise."""
    for stage in STAGES:
        if stage.key == key:
            return stage
    raise ValueError(f"unknown stage {key!r}; allowed: {', '.join(s.key for s in STAGES)}")
