"""`swarmops demo` and `swarmops bench env` through the real CLI, in subprocesses."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def _swarmops(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "swarmops", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_demo_help_lists_every_field_flag() -> None:
    res = _swarmops("demo", "--help")
    assert res.returncode == 0
    for flag in ("--width", "--height", "--drones", "--plants", "--plant-density", "--sensor-radius",
                 "--tank-capacity", "--battery-capacity", "--max-steps", "--obstacle-density",
                 "--obstacles-block-sensor", "--coverage-target", "--seed", "--out"):
        assert flag in res.stdout


@pytest.mark.parametrize("scenario", ["recon", "watering"])
def test_demo_prints_metrics_and_writes_an_animation(tmp_path: Path, scenario: str) -> None:
    out = tmp_path / f"{scenario}.gif"
    res = _swarmops("demo", "--scenario", scenario, "--width", "12", "--height", "10", "--drones", "3",
                    "--plants", "8", "--obstacle-density", "0.15", "--out", str(out), "--ansi")
    assert res.returncode == 0, res.stderr
    assert ("coverage" if scenario == "recon" else "water_delivered") in res.stdout
    assert "#" in res.stdout and out.stat().st_size > 1000


def test_demo_flies_a_trained_model_reproducibly(tmp_path: Path) -> None:
    """--model flies the committed smoke model (dvc repro's) as evaluation does; same seed, same run."""
    field = ["--width", "12", "--height", "10", "--drones", "3", "--plants", "8", "--seed", "3"]
    model = "models/recon/model.zip"
    runs = [_swarmops("demo", "--model", model, *field, "--out", str(tmp_path / f"{i}.gif")) for i in (0, 1)]
    for res in runs:
        assert res.returncode == 0, res.stderr
        assert model in res.stdout and "steps_to_95" in res.stdout  # the table's title names the model
    assert runs[0].stdout.replace("0.gif", "1.gif") == runs[1].stdout
    assert (tmp_path / "0.gif").read_bytes() == (tmp_path / "1.gif").read_bytes()


@pytest.mark.parametrize("args, message", [
    (["--drones", "0"], "error: --drones=0 is out of range; allowed: 1..256"),
    (["--width", "8", "--height", "8", "--plants", "500"],
     "error: --plants=500 is out of range; allowed: 0..56"),
    (["--obstacle-density", "0.9"], "error: --obstacle-density=0.9 is out of range; allowed: [0.0, 0.4]"),
    (["--scenario", "orbit"], "error: --scenario='orbit' is unknown; allowed: recon, watering"),
    (
        ["--policy", "smart"],
        "error: --policy='smart' is unknown; allowed: random, lawnmower, partition, sectors, greedy, routes",
    ),
    (["--out", "demo.png"], "error: --out 'demo.png' has suffix '.png'; allowed: .gif, .mp4"),
    (["--model", "nope.zip"], "error: --model: model nope.zip does not exist"),
    (["--model", "README.md"], "error: --model: model README.md is unreadable: ValueError"),
    (["--model", "models/recon/model.zip", "--scenario", "watering"],
     "error: --model: model models/recon/model.zip has 5 actions: it is a recon model, not watering"),
    (["--model", "models/recon/model.zip", "--policy", "sectors"],
     "error: --policy 'sectors' and --model models/recon/model.zip: give one of them"),
])
def test_bad_flags_give_one_line_and_no_output(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "x.gif"
    full = ["demo", "--out", str(out), *args] if "--out" not in args else ["demo", *args]
    res = _swarmops(*full)
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(message), res.stderr
    assert not out.exists()


def test_bench_env_quick_run_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "env.json"
    res = _swarmops("bench", "env", "--batches", "1,8", "--plain-batches", "1", "--densities", "0.0,0.2",
                    "--size", "16", "--drones", "4", "--min-time", "0.05", "--repeats", "2",
                    "--out", str(out))
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    assert {r["implementation"] for r in data["rows"]} == {"vectorised", "plain"}
    assert all(len(r["trials_agent_steps_per_s"]) == 2 for r in data["rows"])
    assert data["summary"]["0.0"]["speedup_vs_plain"] > 0 and "obstacle_cost" in data["summary"]["0.2"]
    assert len(data["machine"]["pinned_cpus"]) == 1 and data["machine"]["threads"]["OMP_NUM_THREADS"] == "1"
    assert "agent-steps/s" in res.stdout


def test_bench_env_bad_flag_is_one_line(tmp_path: Path) -> None:
    res = _swarmops("bench", "env", "--batches", "1,x", "--out", str(tmp_path / "e.json"))
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1].startswith("error: --batches='1,x' is invalid")
    assert not (tmp_path / "e.json").exists()


def test_bench_scale_quick_run_writes_json_and_plot(tmp_path: Path) -> None:
    out, plot = tmp_path / "scale.json", tmp_path / "img" / "scaling.png"
    res = _swarmops("bench", "scale", "--sides", "16,32", "--drones", "1,4", "--steps", "15",
                    "--out", str(out), "--plot", str(plot))
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    assert {(r["scenario"], r["side"], r["drones"]) for r in data["rows"]} == {
        (s, side, n) for s in ("recon", "watering") for side in (16, 32) for n in (1, 4)}
    for r in data["rows"]:
        assert r["steps"] == 15 and r["sim_ms"] > 0 and r["heuristic_ms"] > 0 and r["policy_ms"] > 0
        assert r["ratio"] == pytest.approx(r["heuristic_ms"] / r["sim_ms"], rel=0.05)
        assert r["sim_state_bytes"] > 0 and r["heuristic_bytes"] > 0
    assert "met" in data["target"] and plot.stat().st_size > 10_000
    assert "sectors" in res.stdout and "routes" in res.stdout and "CPU ms per step" in res.stdout


@pytest.mark.parametrize("args, words", [
    (["--sides", "16,1024"], "error: --sides='16,1024' is out of range; allowed: 4..512"),
    (["--drones", "a"], "error: --drones='a' is invalid"),
    (["--steps", "0"], "error: --steps=0 is out of range; allowed: 1..100000"),
])
def test_bench_scale_bad_flags_are_one_line(tmp_path: Path, args: list, words: str) -> None:
    res = _swarmops("bench", "scale", *args, "--out", str(tmp_path / "s.json"),
                    "--plot", str(tmp_path / "s.png"))
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1].startswith(words)
    assert not (tmp_path / "s.json").exists() and not (tmp_path / "s.png").exists()
