"""`swarmops tune`: search-space validation, bad input, and real studies on PostgreSQL.

Trials are tiny (a 16-row VecEnv, 2,048 agent-steps, one 8x8 suite file with two layouts) so that a
trial takes about a second; the PostgreSQL tests use the session server of tests/conftest.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.training.conftest import REPO, cli_env
from training.tune_space import SearchSpaceError, check_space, load_space

TINY_PROFILE = {
    "description": "tiny profile of the tune tests",
    "seed": 0,
    "device": "cpu",
    "total_timesteps": 4096,
    "num_agents": 16,
    "checkpoint_every": 4096,
    "torch_threads": 1,
    "curriculum": [{"width": 8, "height": 8, "n_drones": 2, "share": 1.0}],
    "ppo": {"learning_rate": 0.001, "n_steps": 32, "batch_size": 256, "n_epochs": 1, "net_arch": [16]},
    "episode_gif": False,
}
TINY_SPACE = {
    "trial": {"total_timesteps": 2048, "eval_every": 512, "suite_entries": 1},
    "pruner": "median",
    "startup_trials": 1,
    "params": {
        "ppo.learning_rate": {"type": "float", "low": 1.0e-4, "high": 3.0e-3, "log": True},
        "ppo.net_arch": {"type": "categorical", "choices": [[16], [32]]},
    },
}
SUITE_PARAMS = {
    "scenarios": {
        "version": "v1",
        "seed": 7,
        "layouts_per_config": 2,
        "scenarios": ["recon"],
        "field": {},
        "configs": [{"split": "train", "width": 8, "height": 8, "n_drones": 2}],
    }
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny profile, search space and one-file suite (shared, read-only)."""
    from training.scenarios import generate_suite, load_params

    root = tmp_path_factory.mktemp("tune")
    (root / "tiny.yaml").write_text(yaml.safe_dump(TINY_PROFILE))
    (root / "space.yaml").write_text(yaml.safe_dump(TINY_SPACE))
    (root / "params.yaml").write_text(yaml.safe_dump(SUITE_PARAMS))
    generate_suite(load_params(root / "params.yaml"), root / "suite")
    return {"profile": root / "tiny.yaml", "space": root / "space.yaml", "suite": root / "suite"}


def _space_file(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load(yaml.safe_dump(TINY_SPACE))
    for key, value in changes.items():
        node = data
        *parents, last = key.split("/")
        for part in parents:
            node = node[part]
        node[last] = value
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


# ---- search spaces ------------------------------------------------------------------------------
@pytest.mark.unit
def test_shipped_spaces_are_valid_for_the_shipped_profiles() -> None:
    for scenario in ("recon", "watering"):
        space = load_space(scenario)
        for profile in ("smoke", "default"):
            check_space(space, profile, scenario)


@pytest.mark.unit
@pytest.mark.parametrize(
    "changes, message",
    [
        ({"params/ppo.lerning_rate": {"type": "float", "low": 0.1, "high": 0.2}},
         r"^search space space\.yaml: unknown parameter 'ppo\.lerning_rate' \(allowed: ppo\.learning_rate, "),
        ({"params/ppo.gamma": {"type": "float", "low": 0.99, "high": 0.9}},
         r"^search space space\.yaml: params\.ppo\.gamma: empty range low=0\.99 high=0\.9 "
         r"\(need low < high\)$"),
        ({"params/ppo.n_epochs": {"type": "int", "low": 3, "high": 3}},
         r"params\.ppo\.n_epochs: empty range low=3 high=3"),
        ({"params/ppo.learning_rate": {"type": "float", "low": 0.0, "high": 0.1, "log": True}},
         r"log scale needs low > 0 \(got low=0\.0\)"),
        ({"params/ppo.net_arch": {"type": "categorical", "choices": []}},
         r"params\.ppo\.net_arch\.choices: "),
        ({"params/ppo.gamma": {"type": "uniform", "low": 0.9, "high": 0.99}},
         r"params\.ppo\.gamma: 'type' must be one of float, int, categorical"),
        ({"trial/eval_every": 0}, r"trial\.eval_every: Input should be greater than or equal to 1"),
        ({"pruner": "asha"}, r"pruner: Input should be 'median' or 'hyperband'"),
    ],
)
def test_bad_search_space_is_one_line(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(SearchSpaceError, match=message) as info:
        load_space(_space_file(tmp_path, **changes))
    assert "\n" not in str(info.value)


@pytest.mark.unit
def test_space_whose_corner_breaks_the_profile_is_refused(tmp_path: Path, tiny: dict[str, Path]) -> None:
    space = load_space(_space_file(tmp_path, **{"params/ppo.batch_size": {"type": "int", "low": 256,
                                                                          "high": 300}}))
    with pytest.raises(SearchSpaceError, match=r"ppo\.batch_size=300: must divide num_agents x ppo\.n_steps"):
        check_space(space, tiny["profile"], "recon")


@pytest.mark.unit
def test_unknown_space_name_lists_the_shipped_ones() -> None:
    with pytest.raises(SearchSpaceError, match=r"unknown search space 'nope' \(allowed: recon, watering, or"):
        load_space("nope")


# ---- the command line: bad input is one line, exit 2, nothing created ---------------------------------
def _tune(home: Path, tiny: dict[str, Path], *args: str, timeout: int = 300, space: Path | None = None,
          **env: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "swarmops", "tune", "--scenario", "recon", "--profile", str(tiny["profile"]),
           "--space", str(space or tiny["space"]), "--suite", str(tiny["suite"]), *args]
    return subprocess.run(cmd, cwd=REPO, env=cli_env(home, **env), capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.unit
@pytest.mark.parametrize(
    "args, space_changes, message",
    [
        ([], {"params/ppo.gamma": {"type": "float", "low": 0.99, "high": 0.9}},
         "empty range low=0.99 high=0.9"),
        ([], {"params/ppo.lr": {"type": "float", "low": 0.1, "high": 0.2}}, "unknown parameter 'ppo.lr'"),
        (["--storage", "postgresql://u:secret@127.0.0.1:1/optuna"], {},
         "cannot reach the study storage postgresql://u:***@127.0.0.1:1/optuna: "),
        (["--storage", "mysql://u@localhost/x"], {}, "unsupported --storage 'mysql'"),
        (["--study", "Bad Name!"], {}, "--study 'Bad Name!': use 1-32 characters"),
    ],
)
def test_bad_input_is_one_line_and_creates_nothing(
    tmp_path: Path, tiny: dict[str, Path], args: list[str], space_changes: dict, message: str
) -> None:
    home = tmp_path / "runs"
    space = _space_file(tmp_path, **space_changes)
    proc = _tune(home, tiny, "--trials", "2", *args, space=space)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert "secret" not in proc.stderr
    assert not home.exists()  # no optuna.db, no MLflow store, no report


# ---- real studies on PostgreSQL -----------------------------------------------------------------------
def _trials(url: str, study: str) -> list:
    import optuna

    return optuna.load_study(study_name=study, storage=url).get_trials(deepcopy=False)


def _child_runs(home: Path, study: str) -> dict[str, object]:
    """MLflow child runs of the study by trial number (the embedded store under ``home``)."""
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    exp = client.get_experiment_by_name("swarmops-recon-tune")
    runs = client.search_runs([exp.experiment_id], f"tags.optuna_study = '{study}'")
    return {r.data.tags["optuna_trial"]: r for r in runs}


@pytest.mark.infra
def test_two_workers_complete_n_trials_without_duplicates_then_export(
    tmp_path: Path, tiny: dict[str, Path], postgres_url: str
) -> None:
    home = tmp_path / "runs"
    proc = _tune(home, tiny, "--trials", "4", "--workers", "2", "--study", "pair", "--storage", postgres_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    trials = _trials(postgres_url, "pair")
    numbers = sorted(t.number for t in trials)
    assert numbers == list(range(len(numbers)))  # no duplicated, no missing trial number
    finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) == 4 and len(trials) == 4, [t.state.name for t in trials]
    # both workers ran trials (each prints its own lines)
    assert proc.stdout.count("trial ") >= 4
    runs = _child_runs(home, "pair")
    assert sorted(runs) == [str(n) for n in numbers]
    parents = {r.data.tags["mlflow.parentRunId"] for r in runs.values()}
    assert len(parents) == 1
    for t in trials:
        assert runs[str(t.number)].data.tags["state"] == t.state.name
        assert runs[str(t.number)].data.params["ppo.learning_rate"]
    # the best trial's profile trains for real and keeps the base budget
    from training.config import load_profile

    out = home / "tune" / "pair"
    best = load_profile(out / "best_profile.yaml")
    assert best.total_timesteps == TINY_PROFILE["total_timesteps"]
    study_best = max((t for t in trials if t.state.name == "COMPLETE"), key=lambda t: t.value)
    assert best.ppo.learning_rate == pytest.approx(study_best.params["ppo.learning_rate"])
    plots = ("optimization_history.png", "param_importances.png", "parallel_coordinate.png", "report.html")
    for plot in plots:
        assert (out / plot).stat().st_size > 1000, plot
    assert f"trial {study_best.number}" in (out / "report.md").read_text()


@pytest.mark.infra
def test_killed_worker_leaves_a_failed_trial_and_the_study_resumes(
    tmp_path: Path, tiny: dict[str, Path], postgres_url: str
) -> None:
    import optuna

    home = tmp_path / "runs"
    slow = _space_file(tmp_path, **{"trial/total_timesteps": 65536, "trial/eval_every": 65536})
    args = ["--trials", "2", "--study", "killed", "--storage", postgres_url, "--heartbeat", "1"]
    cmd = [sys.executable, "-m", "swarmops", "tune", "--scenario", "recon", "--profile", str(tiny["profile"]),
           "--space", str(slow), "--suite", str(tiny["suite"]), *args]
    worker = subprocess.Popen(cmd, cwd=REPO, env=cli_env(home), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if any(t.state.name == "RUNNING" for t in _trials(postgres_url, "killed")):
                    break
            except KeyError:  # study not created yet
                pass
            time.sleep(0.3)
        else:
            pytest.fail("the worker never started a trial")
        time.sleep(1.5)  # at least one heartbeat and the MLflow child run exist
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert [t.state.name for t in _trials(postgres_url, "killed")] == ["RUNNING"]
    time.sleep(2.5)  # grace period = 2 x heartbeat
    proc = _tune(home, tiny, *args, "--no-report")  # the same command resumes (tiny budget now)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    trials = _trials(postgres_url, "killed")
    assert trials[0].state == optuna.trial.TrialState.FAIL
    assert [t.state.name in ("COMPLETE", "PRUNED") for t in trials[1:]] == [True, True]
    runs = _child_runs(home, "killed")
    assert runs["0"].info.status == "FAILED" and runs["0"].data.tags["state"] == "FAIL"
    assert len(trials) == 3


@pytest.mark.infra
def test_pruner_stops_a_bad_trial_early(tmp_path: Path, tiny: dict[str, Path], postgres_url: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A learning rate of 1.0 collapses the policy after one update (coverage 0.28 vs 0.84 measured):
    the median pruner, fed by the first intermediate evaluation, stops it there."""
    from training.tune import open_study, prepare, run_worker

    monkeypatch.setenv("SWARMOPS_RUNS_DIR", str(tmp_path / "runs"))
    wide = {"type": "float", "low": 1e-4, "high": 1.0, "log": True}
    space = _space_file(tmp_path, **{"params/ppo.learning_rate": wide})
    req = prepare("recon", 2, space, str(tiny["profile"]), postgres_url, "prune", tiny["suite"])
    study = open_study(req)
    study.enqueue_trial({"ppo.learning_rate": 1e-3, "ppo.net_arch": "[16]"})
    study.enqueue_trial({"ppo.learning_rate": 1.0, "ppo.net_arch": "[16]"})
    assert run_worker(req, lambda _line: None) == 2
    good, bad = _trials(postgres_url, "prune")
    assert good.state.name == "COMPLETE" and max(good.intermediate_values) == 1536
    assert bad.state.name == "PRUNED"
    assert list(bad.intermediate_values) == [512]  # stopped at the first evaluation of 3
    assert bad.intermediate_values[512] < good.intermediate_values[512]
    runs = _child_runs(tmp_path / "runs", "prune")
    assert runs["1"].data.tags["state"] == "PRUNED" and runs["1"].data.metrics["agent_steps"] < 1024


# ---- multi-seed training and the gate over seeds ---------------------------------------------------------
def _ledger_with_runs(tmp_path: Path, scores: dict[str, dict[tuple[str, int], float]]) -> object:
    from training.ledger import Ledger

    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    for run_id, values in scores.items():
        ledger.create_run(id=run_id, scenario="recon", profile="tiny", seed=0, device="cpu",
                          total_timesteps=1, status="finished")
        ledger.add_evaluation(run_id, "h", [
            {"scenario_id": sid, "split": "train", "policy": "ppo", "seed": seed, "metric": "score",
             "value": v}
            for (sid, seed), v in values.items()
        ])
    return ledger


@pytest.mark.unit
def test_gate_pairs_seed_means_on_the_keys_every_seed_has(tmp_path: Path) -> None:
    from training.gate import paired_scores, paired_seed_means

    ledger = _ledger_with_runs(tmp_path, {
        "g-seed0": {("a", 0): 0.2, ("a", 1): 0.4, ("b", 0): 0.9},
        "g-seed1": {("a", 0): 0.6, ("a", 1): 0.8},  # no ("b", 0): that key is dropped
        "champ": {("a", 0): 0.5, ("a", 1): 0.5, ("b", 0): 0.5},
    })
    keys, cand, champ = paired_seed_means(ledger, ["g-seed0", "g-seed1"], ["champ"], "h")
    assert keys == [("a", 0), ("a", 1)]
    assert cand.tolist() == pytest.approx([0.4, 0.6]) and champ.tolist() == [0.5, 0.5]
    # one run per side is exactly the single-run pairing
    single = paired_seed_means(ledger, ["g-seed0"], ["champ"], "h")
    plain = paired_scores(ledger, "g-seed0", "champ", "h")
    assert single[0] == plain[0] and single[1].tolist() == plain[1].tolist()


@pytest.mark.unit
def test_seed_group_finds_the_finished_siblings_only(tmp_path: Path) -> None:
    from training.workflow import seed_group

    ledger = _ledger_with_runs(tmp_path, {k: {} for k in (
        "recon-x-1-seed0", "recon-x-1-seed1", "recon-x-1-seed10", "recon-x-12-seed0", "recon-x-1")})
    ledger.update_run("recon-x-1-seed10", status="failed")
    run = ledger.get_run("recon-x-1-seed1")
    assert [r.id for r in seed_group(ledger, run)] == ["recon-x-1-seed0", "recon-x-1-seed1"]
    alone = ledger.get_run("recon-x-1")
    assert [r.id for r in seed_group(ledger, alone)] == ["recon-x-1"]


@pytest.mark.unit
@pytest.mark.parametrize("seeds, message", [
    ("0,a", "--seeds '0,a': expected comma-separated integers >= 0"),
    ("1,1", "--seeds '1,1': expected distinct integers >= 0"),
    ("-1", "--seeds '-1': expected distinct integers >= 0"),
])
def test_bad_seeds_are_one_line(tmp_path: Path, tiny: dict[str, Path], seeds: str, message: str) -> None:
    home = tmp_path / "runs"
    proc = subprocess.run([sys.executable, "-m", "swarmops", "train", "--profile", str(tiny["profile"]),
                           "--seeds", seeds], cwd=REPO, env=cli_env(home), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert not home.exists()


@pytest.mark.slow
def test_train_seeds_then_gate_judges_the_seed_means(tmp_path: Path, tiny: dict[str, Path]) -> None:
    home = tmp_path / "runs"

    def swarmops(*args: str, codes: tuple[int, ...] = (0,)) -> str:
        proc = subprocess.run([sys.executable, "-m", "swarmops", *args], cwd=REPO, env=cli_env(home),
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode in codes, proc.stdout + proc.stderr
        return proc.stdout

    gate = ("gate", "--scenario", "recon", "--suite", str(tiny["suite"]), "--n-boot", "200")
    out = swarmops("train", "--profile", str(tiny["profile"]), "--seeds", "0,1", "--no-progress")
    ids = [line.split()[1] for line in out.splitlines() if line.startswith("run ")]
    assert [i.rsplit("-", 1)[1] for i in ids] == ["seed0", "seed1"] and ids[0][:-1] == ids[1][:-1]
    assert "becomes @champion" in swarmops(*gate)
    swarmops("train", "--profile", str(tiny["profile"]), "--seeds", "2,3", "--no-progress")
    # promoted or rejected (exit 1), the comparison is between the two groups' seed means
    assert "(seed means: 2 vs 2 training seeds)" in swarmops(*gate, codes=(0, 1))
    from training.ledger import Ledger

    ledger = Ledger(f"sqlite:///{home / 'swarmops.db'}")
    runs = {r.id: r for r in ledger.list_runs(10)}
    assert sorted(r.seed for r in runs.values()) == [0, 1, 2, 3]
    evidence = yaml.safe_load(max(ledger.promotions("recon"), key=lambda p: p.id).evidence_json)
    assert len(evidence["candidate_seed_runs"]) == 2 and len(evidence["champion_seed_runs"]) == 2


@pytest.mark.unit
@pytest.mark.slow  # a real (tiny) study: MLflow store creation + trials, ~15-35 s under load
def test_hyperband_study_on_embedded_sqlite(tmp_path: Path, tiny: dict[str, Path],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The Hyperband pruner takes agent-steps as its resource; the default storage is runs/optuna.db."""
    from training.tune import open_study, prepare, run_worker

    monkeypatch.setenv("SWARMOPS_RUNS_DIR", str(tmp_path / "runs"))
    req = prepare("recon", 2, _space_file(tmp_path, pruner="hyperband"), str(tiny["profile"]), None, "hb",
                  tiny["suite"])
    assert req.storage == f"sqlite:///{tmp_path / 'runs' / 'optuna.db'}"
    assert run_worker(req, lambda _line: None) == 2
    study = open_study(req)
    assert type(study.pruner).__name__ == "HyperbandPruner"
    assert [t.state.name in ("COMPLETE", "PRUNED") for t in study.trials] == [True, True]
    assert run_worker(req, lambda _line: None) == 0  # target reached: a rerun runs nothing


@pytest.mark.unit
@pytest.mark.slow  # a real (tiny) study: MLflow store creation + trials, ~15-35 s under load
def test_a_failing_trial_is_fail_and_the_study_goes_on(
    tmp_path: Path, tiny: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both corners of the batch_size range divide the rollout (512), 300 does not: that trial's
    profile is invalid, the trial FAILs (MLflow run FAILED, error tagged) and the next one runs."""
    from training.tune import open_study, prepare, run_worker

    home = tmp_path / "runs"
    monkeypatch.setenv("SWARMOPS_RUNS_DIR", str(home))
    space = _space_file(tmp_path, **{"params/ppo.batch_size": {"type": "int", "low": 256, "high": 512}})
    req = prepare("recon", 1, space, str(tiny["profile"]), None, "fails", tiny["suite"])
    study = open_study(req)
    study.enqueue_trial({"ppo.batch_size": 300})
    study.enqueue_trial({"ppo.batch_size": 256})
    lines: list[str] = []
    assert run_worker(req, lines.append) == 2
    assert [t.state.name for t in open_study(req).trials] == ["FAIL", "COMPLETE"]
    from training.tune import OBJECTIVE_NAME

    assert lines[0].startswith("trial 0 FAIL") and lines[1].startswith(f"trial 1 COMPLETE {OBJECTIVE_NAME} ")
    failed = _child_runs(home, "fails")["0"]
    assert failed.info.status == "FAILED" and "ppo.batch_size=300: must divide" in failed.data.tags["error"]


@pytest.mark.unit
def test_a_study_of_the_other_direction_is_refused(tmp_path: Path, tiny: dict[str, Path],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """After the objective's direction changes (training/tune.py, one place) an old study is refused."""
    import optuna

    from training import tune

    monkeypatch.setenv("SWARMOPS_RUNS_DIR", str(tmp_path / "runs"))
    req = tune.prepare("recon", 1, tiny["space"], str(tiny["profile"]), None, "flip", tiny["suite"])
    other = "minimize" if tune.OBJECTIVE_DIRECTION == "maximize" else "maximize"
    (tmp_path / "runs").mkdir()
    optuna.create_study(storage=req.storage, study_name="flip", direction=other)
    with pytest.raises(tune.TuneError, match=f"study flip was created to {other}; .* use a new --study name"):
        tune.open_study(req)
