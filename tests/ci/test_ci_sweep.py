"""The hyperparameter sweep in both CI files: parallel workers on gpu runners/agents, one study, only
when asked (SWEEP), every worker calling `make tune` (docs/tuning.md)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ci.test_ci_jenkinsfile import _find, _stages, _steps, pipeline  # noqa: F401 - fixture

SCHEDULE = {"CI_PIPELINE_SOURCE": "schedule"}


@pytest.mark.infra
def test_gitlab_sweep_runs_four_gpu_workers_only_when_asked(gcl: Any) -> None:
    gcl.checkout("main")
    assert not [name for name in gcl.jobs(variables=SCHEDULE) if name.startswith("sweep")]
    jobs = gcl.jobs(variables={**SCHEDULE, "SWEEP": "1"})
    scheduled = {n: j for n, j in jobs.items() if n.startswith("sweep")}
    assert len(scheduled) == 4 and all(j["when"] == "on_success" for j in scheduled.values())
    manual = {n: j for n, j in gcl.jobs(variables={"SWEEP": "1"}).items() if n.startswith("sweep")}
    assert len(manual) == 4 and all(j["when"] == "manual" for j in manual.values())
    expanded = gcl.run("--preview", "--no-json-schema-validation")
    assert expanded.returncode == 0, expanded.stderr
    import yaml

    sweep = yaml.safe_load(expanded.stdout)["sweep"]
    assert sweep["tags"] == ["gpu"] and sweep["parallel"] == 4 and sweep["needs"] == []
    assert sweep["script"] == ["make tune SCENARIO=$SCENARIO PROFILE=$PROFILE TRIALS=$TRIALS "
                               "STUDY=sweep-$SCENARIO-$PROFILE"]


@pytest.mark.unit
def test_jenkins_sweep_stage_has_parallel_gpu_branches_on_one_study(pipeline: dict) -> None:  # noqa: F811
    sweep = _stages(pipeline)["Sweep"]
    matrix = _find(sweep["children"], "matrix")
    axis = _find(_find(matrix["children"], "axes")["children"], "axis")["children"]
    assert _find(axis, "values")["args"] == ["1", "2", "3", "4"]  # four workers, run in parallel
    agent = _find(matrix["children"], "agent")  # each cell on its own gpu agent
    assert _find(agent["children"], "label")["args"] == ["gpu"]
    assert [s["args"][0] for s in _steps(matrix)] == ["make tune"]
    # the study's storage URL comes from a Jenkins credential, never from the file
    env = _find(sweep["children"], "environment")["children"]
    assert [n["args"] for n in env if n["name"] == "credentials"] == [["swarmops-tune-storage"]]
