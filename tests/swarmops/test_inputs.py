"""Inputs checked before work starts, with messages that name the real cause: tracking and ledger URLs,
missing folders, suites that evaluate would refuse, profile and --set mistakes, a model of the other
scenario."""

from __future__ import annotations

import http.server
import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import pytest

from .conftest import REPO, one_error_line, swarmops

pytestmark = pytest.mark.unit


# ---- MLflow tracking URI -------------------------------------------------------------------------------
@pytest.mark.parametrize("uri, fragment", [
    ("http://127.0.0.1:1",
     "cannot reach the MLflow server http://127.0.0.1:1: [Errno 111] Connection refused"),
    ("http://", "invalid MLFLOW_TRACKING_URI"),
    ("garbage", "MLFLOW_TRACKING_URI 'garbage' is not a URI (allowed: http(s)://HOST:PORT"),
    ("file:///tmp/mlruns", "MLflow's file store is in maintenance mode"),
    ("sqlite:///", "names no database file"),
    ("sqlite:////nonexistent-swarmops/mlflow.db", "folder /nonexistent-swarmops does not exist"),
    ("postgresql://u@127.0.0.1:1/x", "must use postgresql+psycopg2://"),
])
def test_bad_tracking_uris_fail_fast_in_one_line(runs_home: Path, uri: str, fragment: str) -> None:
    from training.errors import TrackingError
    from training.tracking import check_tracking_uri

    t0 = time.perf_counter()
    with pytest.raises(TrackingError) as info:
        check_tracking_uri(uri)
    assert fragment in str(info.value) and "\n" not in str(info.value)
    assert time.perf_counter() - t0 < 5
    assert not Path("/nonexistent-swarmops").exists() and not runs_home.exists()


@pytest.fixture
def http_server() -> Iterator[str]:
    """A loopback HTTP server that answers every GET with 404 (reachable, not MLflow)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://user:secret@127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("uri, fragment", [
    ("file://", "needs an absolute folder"),
    ("file:///nonexistent-swarmops/mlruns", "folder /nonexistent-swarmops does not exist"),
])
def test_file_stores_when_mlflow_allows_them(monkeypatch: pytest.MonkeyPatch, uri: str,
                                             fragment: str) -> None:
    from training.errors import TrackingError
    from training.tracking import check_tracking_uri

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    with pytest.raises(TrackingError, match=fragment):
        check_tracking_uri(uri)


def test_a_server_that_answers_passes_the_probe(http_server: str) -> None:
    from training.tracking import check_tracking_uri

    check_tracking_uri(http_server)  # any HTTP answer means reachable; MLflow reports the rest


def test_train_against_an_unreachable_server_costs_seconds_and_one_line(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    result = swarmops("train", "--no-progress", home=tmp_path / "runs",
                      MLFLOW_TRACKING_URI="http://127.0.0.1:1")
    elapsed = time.perf_counter() - t0
    assert "cannot reach the MLflow server" in one_error_line(result)
    assert elapsed < 30, f"{elapsed:.1f} s"  # was ~180 s of silence; here ~2 s plus the interpreter start
    assert not [p for p in (tmp_path / "runs").glob("recon-*")]  # no run folder


# ---- ledger URL ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url, fragment", [
    ("sqlite:////nonexistent-swarmops/dir/x.db", "folder /nonexistent-swarmops/dir does not exist"),
    ("sqlite:///", "names no database file"),
    ("garbage", "invalid ledger database URL 'garbage'"),
])
def test_bad_ledger_urls_are_one_line_and_create_nothing(tmp_path: Path, url: str, fragment: str) -> None:
    line = one_error_line(swarmops("runs", home=tmp_path / "runs", SWARMOPS_DB_URL=url))
    assert fragment in line
    assert not Path("/nonexistent-swarmops").exists()


def test_the_runs_root_itself_is_created(tmp_path: Path) -> None:
    home = tmp_path / "fresh" / "runs"  # SwarmOps' own folder: created on demand, parents included
    result = swarmops("runs", home=home)
    assert result.returncode == 0, result.stderr
    assert (home / "swarmops.db").is_file()


# ---- scenario suites: validate applies evaluate's checks -------------------------------------------------
@pytest.fixture
def suite(tmp_path: Path) -> Path:
    from training.scenarios import generate_suite, load_params

    out = tmp_path / "suite"
    generate_suite(load_params(REPO / "params.yaml"), out)
    return out


def _edit_first_layout(suite: Path, edit) -> str:  # noqa: ANN001 - a function of the layout dict
    manifest = json.loads((suite / "suite.json").read_text())
    name = next(n for n in manifest["scenarios"] if n.startswith("recon"))
    data = json.loads((suite / name).read_text())
    edit(data["layouts"][0])
    (suite / name).write_text(json.dumps(data))
    return name


def test_validate_refuses_a_base_on_an_obstacle(tmp_path: Path, suite: Path) -> None:
    name = _edit_first_layout(suite, lambda lay: lay.update(obstacles=[*lay["obstacles"], lay["base"]]))
    line = one_error_line(swarmops("scenarios", "validate", str(suite), home=tmp_path / "runs"))
    assert name in line and "layouts[0]" in line and "base" in line


def test_validate_refuses_an_unreachable_plant(tmp_path: Path, suite: Path) -> None:
    def wall_in(lay: dict) -> None:
        """Obstacles on the 4 neighbours of a plant whose neighbours are free cells: it is cut off."""
        taken = {tuple(p) for p in lay["plants"]} | {tuple(lay["base"])}
        taken |= {tuple(c) for c in lay["obstacles"]}

        def ring(y: int, x: int) -> list[list[int]]:
            cells = [[y - 1, x], [y + 1, x], [y, x - 1], [y, x + 1]]
            return [c for c in cells if 0 <= c[0] < lay["height"] and 0 <= c[1] < lay["width"]]

        y, x = next(p for p in lay["plants"] if not any(tuple(c) in taken for c in ring(*p)))
        lay["obstacles"] = [*lay["obstacles"], *ring(y, x)]

    name = _edit_first_layout(suite, wall_in)
    result = swarmops("scenarios", "validate", str(suite), home=tmp_path / "runs")
    line = one_error_line(result)
    assert name in line and "layouts[0]" in line


def test_validate_accepts_the_generated_suite(tmp_path: Path, suite: Path) -> None:
    result = swarmops("scenarios", "validate", str(suite), home=tmp_path / "runs")
    assert result.returncode == 0 and "valid" in result.stdout, result.stderr


# ---- profiles and --set ----------------------------------------------------------------------------------
def test_a_typo_in_the_shared_keys_is_blamed_on_the_file_not_a_scenario_section(tmp_path: Path) -> None:
    from training.config import ProfileError, load_profile

    text = (REPO / "training" / "profiles" / "smoke.yaml").read_text().replace("gamma: 0.97", "gamam: 0.97")
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError) as info:
        load_profile(path, scenario="recon")
    assert str(info.value).startswith("p.yaml: unknown key 'ppo.gamam' (allowed here: learning_rate")
    assert "scenarios.watering" not in str(info.value)


@pytest.mark.parametrize("override, expected", [
    ("ppo.foo=1", "--set ppo.foo=1: unknown key 'ppo.foo'"),
    ("ppo.n_epochs=0", "--set ppo.n_epochs=0: ppo.n_epochs: Input should be greater than or equal to 1"),
    ("seeed=1", "--set seeed=1: unknown key 'seeed' (allowed here: description, seed"),
])
def test_a_bad_set_override_is_blamed_on_the_override(override: str, expected: str) -> None:
    from training.config import ProfileError, load_profile

    with pytest.raises(ProfileError) as info:
        load_profile("smoke", [override], scenario="recon")
    assert str(info.value).startswith(expected)
    assert "smoke.yaml" not in str(info.value)


# ---- models ----------------------------------------------------------------------------------------------
def test_a_recon_model_evaluated_as_watering_is_named_as_such() -> None:
    from env.core import OBS_DIM, OBS_LAYOUT_VERSION
    from training.registry import LAYOUT_ATTR, IncompatibleModel, check_compatible

    recon_like = SimpleNamespace(observation_space=SimpleNamespace(shape=(OBS_DIM,)),
                                 action_space=SimpleNamespace(n=5), **{LAYOUT_ATTR: OBS_LAYOUT_VERSION})
    with pytest.raises(IncompatibleModel) as info:
        check_compatible(recon_like, "watering", "models/recon/model.zip")
    assert "it is a recon model, not watering" in str(info.value)
    assert "--scenario recon" in str(info.value) and "retrain" not in str(info.value)
    old = SimpleNamespace(observation_space=SimpleNamespace(shape=(OBS_DIM - 1,)),
                          action_space=SimpleNamespace(n=5))
    with pytest.raises(IncompatibleModel, match="another env version"):
        check_compatible(old, "recon", "old.zip")
