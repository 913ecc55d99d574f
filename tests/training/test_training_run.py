"""Training runs: same seed => same policy; signals checkpoint + `interrupted`; resume; bad checkpoints."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.training.conftest import REPO, cli_env

# A tiny profile: one 8x8 field size, 16 agent rows, 512 agent-steps per PPO update.
TINY = [
    "num_agents=16",
    "curriculum=[{width: 8, height: 8, n_drones: 2, share: 1.0}]",
    "ppo.n_steps=32",
    "ppo.batch_size=256",
    "ppo.n_epochs=1",
    "ppo.net_arch=[32]",
    "checkpoint_every=512",
    "torch_threads=1",
    "episode_gif=false",
]


@pytest.mark.unit
def test_same_seed_same_policy_on_cpu(runs_home: Path) -> None:
    import torch

    from training.config import load_profile
    from training.ledger import Ledger
    from training.train import train

    profile = load_profile("smoke", [*TINY, "total_timesteps=1024", "device=cpu"])
    ledger = Ledger()
    params = []
    for _ in range(2):
        result = train("recon", profile, ledger=ledger, progress=not params)  # bar on, then off
        from stable_baselines3 import PPO

        params.append(PPO.load(result.model_path, device="cpu").policy.state_dict())
    assert params[0].keys() == params[1].keys()
    assert all(torch.equal(params[0][k], params[1][k]) for k in params[0])
    assert [r.status for r in ledger.list_runs()] == ["finished"] * 2


def _wait_for_checkpoint(home: Path, proc: subprocess.Popen, timeout: float = 120) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(home.glob("*/checkpoints/last.json"))
        if found:
            return found[0].parent.parent
        if proc.poll() is not None:
            raise AssertionError(f"training exited early: {proc.communicate()}")
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("no checkpoint appeared")


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_checkpoints_marks_interrupted_and_resume_finishes(
    tmp_path: Path, sig: int, code: int
) -> None:
    from training.ledger import Ledger

    home = tmp_path / "runs"
    cmd = [sys.executable, "-m", "swarmops", "train", "--profile", "smoke", "--no-progress"]
    proc = subprocess.Popen(
        [*cmd, *sum((["--set", s] for s in [*TINY, "total_timesteps=5000000"]), [])],
        cwd=REPO,
        env=cli_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        run_dir = _wait_for_checkpoint(home, proc)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert f"interrupted by {signal.Signals(sig).name}" in err and "--resume" in err
    ledger = Ledger(f"sqlite:///{home / 'swarmops.db'}")
    run = ledger.get_run(run_dir.name)
    assert run.status == "interrupted" and run.ended_at is not None
    done = json.loads((run_dir / "checkpoints" / "last.json").read_text())["timesteps"]
    assert 512 <= done == run.timesteps_done < 5_000_000
    if sig == signal.SIGINT:
        return  # resuming is the same code path whatever the signal: exercised once, after SIGTERM
    # resume with a shorter budget: two more updates, then finished
    target = done + 1024
    resumed = subprocess.run(
        [*cmd, "--resume", run.id[:24], "--set", f"total_timesteps={target}"],
        cwd=REPO,
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    run = ledger.get_run(run.id)
    # the budget is whole rollouts of 512 and the interrupted rollout was partial: the run ends on
    # the first rollout boundary at or past the budget
    budget = round(target / 512) * 512
    assert run.status == "finished" and (run_dir / "model.zip").is_file()
    assert budget <= run.timesteps_done < budget + 512
    steps = [m.step for m in ledger.metrics(run.id) if m.name == "timesteps_total"]
    assert steps == sorted(steps) and steps[-1] > done  # one metric series across the interruption


@pytest.mark.unit
@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x05\x06" + b"\0" * 18])
def test_corrupt_checkpoint_is_a_clear_error_and_changes_nothing(runs_home: Path, content: bytes) -> None:
    from training.config import dump_profile, load_profile
    from training.ledger import Ledger

    ledger = Ledger()
    run_dir = runs_home / "recon-smoke-broken"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "profile.yaml").write_text(
        dump_profile(load_profile("smoke", TINY + ["total_timesteps=4096"]))
    )
    (run_dir / "checkpoints" / "last.zip").write_bytes(content)
    (run_dir / "checkpoints" / "last.json").write_text(json.dumps({"timesteps": 512}))
    ledger.create_run(
        id="recon-smoke-broken",
        scenario="recon",
        profile="smoke",
        seed=0,
        device="cpu",
        total_timesteps=4096,
        status="interrupted",
        run_dir=str(run_dir),
    )
    from typer.testing import CliRunner

    from swarmops.cli import app

    result = CliRunner().invoke(app, ["train", "--resume", "recon-smoke-broken", "--no-progress"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: checkpoint ") and "is corrupt" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert ledger.get_run("recon-smoke-broken").status == "interrupted"
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoints", "profile.yaml"]


def test_resume_step_comes_from_the_checkpoint_not_its_sidecar(tmp_path: Path) -> None:
    """A kill between the two renames of save_checkpoint leaves last.json one checkpoint behind:
    resuming must count from the step stored with the weights (inside last.zip)."""
    import shutil
    import zipfile

    from training.errors import CheckpointError
    from training.train import checkpoint_steps

    ckpt = tmp_path / "last.zip"
    shutil.copy(REPO / "models/recon/model.zip", ckpt)
    with zipfile.ZipFile(ckpt) as archive:
        stored = json.loads(archive.read("data"))["num_timesteps"]
    (tmp_path / "last.json").write_text(json.dumps({"timesteps": stored - 1024}))  # stale sidecar
    assert checkpoint_steps(ckpt) == stored > 0
    ckpt.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip: no data member
    with pytest.raises(CheckpointError, match="is corrupt"):
        checkpoint_steps(ckpt)
