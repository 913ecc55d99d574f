"""The versioned scenario suite: schema, reproducibility, held-out split, DVC state."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from training.scenarios import (
    SuiteError,
    build_files,
    generate_suite,
    load_params,
    load_suite,
    training_densities,
    training_sizes,
)

pytestmark = pytest.mark.data
REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "data" / "scenarios"


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workspace suite when present (dvc checkout/repro), else one generated from params.yaml."""
    if (SUITE / "suite.json").is_file():
        return SUITE
    out = tmp_path_factory.mktemp("suite") / "scenarios"
    generate_suite(load_params(REPO / "params.yaml"), out)
    return out


def test_every_scenario_file_matches_the_schema(suite_dir: Path) -> None:
    suite = load_suite(suite_dir)
    params = load_params(REPO / "params.yaml")
    assert len(suite.entries) == len(params.scenarios) * len(params.configs)
    for entry in suite.entries:
        assert len(entry.layouts) == params.layouts_per_config
        for lay in entry.layouts:
            cells = {tuple(p) for p in lay.plants}
            assert len(cells) == len(lay.plants)
            assert all(0 <= y < lay.height and 0 <= x < lay.width for y, x in cells)


def test_held_out_split_is_disjoint_from_training_sizes(suite_dir: Path) -> None:
    fields, drones = training_sizes()
    suite = load_suite(suite_dir)
    held_out = [e for e in suite.entries if e.split == "held_out"]
    assert held_out and any(e.split == "train" for e in suite.entries)
    for entry in held_out:
        assert (entry.config["width"], entry.config["height"]) not in fields
        assert entry.config["n_drones"] not in drones
    for entry in suite.entries:
        if entry.split == "train":
            assert (entry.config["width"], entry.config["height"]) in fields


def test_a_scenario_sections_curriculum_counts_as_trained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recon-only stage on a held-out size (here 64x64 with 16 drones) is refused like a shared one."""
    import training.config
    from training.scenarios import check_held_out

    shutil.copy(REPO / "training" / "profiles" / "smoke.yaml", tmp_path / "smoke.yaml")
    monkeypatch.setattr(training.config, "PROFILE_DIR", tmp_path)
    check_held_out([("held_out", 64, 64, 16)])
    text = (tmp_path / "smoke.yaml").read_text().replace(
        "  recon:\n", "  recon:\n    curriculum: [{width: 64, height: 64, n_drones: 16, share: 1.0}]\n", 1)
    (tmp_path / "smoke.yaml").write_text(text)
    assert 16 in training_sizes()[1] and 16 not in load_profile_sizes(tmp_path / "smoke.yaml")
    with pytest.raises(SuiteError, match="held-out field size 64x64 is a training size"):
        check_held_out([("held_out", 64, 64, 16)])


def load_profile_sizes(path: Path) -> set[int]:
    """Swarm sizes of a profile's shared curriculum (no scenario section applied)."""
    from training.config import load_profile

    return {d for _, _, d in load_profile(path).training_sizes()}


def test_suite_looks_like_farms(suite_dir: Path) -> None:
    """Obstacle densities 0 / 0.1 / 0.2, fields up to 64x64, swarms up to 16, a held-out density."""
    suite = load_suite(suite_dir)
    configs = [e.config for e in suite.entries]
    assert {c["obstacle_density"] for c in configs} == {0.0, 0.1, 0.2}
    assert max(c["width"] * c["height"] for c in configs) == 64 * 64
    assert max(c["n_drones"] for c in configs) == 16
    trained = training_densities()
    held = {e.config["obstacle_density"] for e in suite.entries if e.split == "held_out"}
    assert held - trained, f"no held-out obstacle density: suite {held}, trained {trained}"
    for entry in suite.entries:
        if entry.split == "train":
            assert entry.config["obstacle_density"] in trained, entry.id
        assert entry.id.endswith(f"-o{round(100 * entry.config['obstacle_density'])}")
        walls = [len(lay.obstacles) for lay in entry.layouts]
        assert (min(walls) > 0) == (entry.config["obstacle_density"] > 0), entry.id


def test_per_entry_field_keys_reach_the_config() -> None:
    params = load_params(REPO / "params.yaml")
    entry = params.configs[0].model_copy(update={"field": {"max_steps": 123}, "obstacle_density": 0.1})
    files = build_files(params.model_copy(update={"configs": [entry], "scenarios": ["recon"]}))
    (body,) = [b for name, b in files.items() if name != "suite.json"]
    assert body["config"]["max_steps"] == 123 and body["config"]["obstacle_density"] == 0.1


def test_bad_per_entry_field_key_is_one_line() -> None:
    params = load_params(REPO / "params.yaml")
    entry = params.configs[0].model_copy(update={"field": {"max_stepz": 1}})
    with pytest.raises(SuiteError, match=r"configs\[0\]: unknown field config key 'max_stepz'"):
        build_files(params.model_copy(update={"configs": [entry]}))


def test_generation_is_byte_for_byte_deterministic(tmp_path: Path, suite_dir: Path) -> None:
    params = load_params(REPO / "params.yaml")
    generate_suite(params, tmp_path / "a")
    for name, body in build_files(params).items():
        text = json.dumps(body, indent=1, sort_keys=True) + "\n"
        assert (tmp_path / "a" / name).read_text() == text
        assert (
            suite_dir / name
        ).read_text() == text, f"{name} differs from params.yaml: run dvc repro scenarios"


def _write_bad(tmp_path: Path, suite_dir: Path, mutate) -> Path:
    bad = tmp_path / "bad"
    shutil.copytree(suite_dir, bad)
    name = json.loads((bad / "suite.json").read_text())["scenarios"][0]
    body = json.loads((bad / name).read_text())
    mutate(body)
    (bad / name).write_text(json.dumps(body))
    return bad


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda b: b["layouts"][0]["plants"].__setitem__(0, [99, 0]), "outside the"),
        (
            lambda b: b["layouts"][0]["plants"].__setitem__(1, b["layouts"][0]["plants"][0]),
            "duplicate plant position",
        ),
        (lambda b: b["layouts"][0]["plants"].pop(), "water needs for"),
        (lambda b: b["config"].__setitem__("n_drones", 0), "n_drones"),
        (lambda b: b.__setitem__("layouts", []), "layouts"),
        (lambda b: b.__setitem__("extra", 1), "extra"),
    ],
)
def test_invalid_files_are_refused_in_one_line(
    tmp_path: Path, suite_dir: Path, mutate, expected: str
) -> None:
    with pytest.raises(SuiteError) as info:
        load_suite(_write_bad(tmp_path, suite_dir, mutate))
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_held_out_config_overlapping_training_is_refused(tmp_path: Path) -> None:
    params = load_params(REPO / "params.yaml")
    bad = params.model_copy(
        update={"configs": [*params.configs, params.configs[0].model_copy(update={"split": "held_out"})]}
    )
    with pytest.raises(SuiteError, match="held-out field size 8x8 is a training size"):
        build_files(bad)


def test_bad_params_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "params.yaml"
    bad.write_text("scenarios:\n  version: one\n")
    with pytest.raises(SuiteError, match=r"params.yaml \[scenarios\]: version"):
        load_params(bad)


@pytest.mark.slow
def test_dvc_repro_on_a_fresh_clone_reproduces_the_lock(tmp_path: Path) -> None:
    """Committed dvc.lock + params: a fresh clone regenerates identical data and `dvc status` is clean."""
    if not (REPO / "dvc.lock").is_file():
        pytest.skip("dvc.lock not committed yet")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    (clone / ".venv").symlink_to(REPO / ".venv")
    dvc = str(REPO / ".venv" / "bin" / "dvc")
    subprocess.run([dvc, "repro", "scenarios"], cwd=clone, check=True, capture_output=True, timeout=300)
    changed = subprocess.run(
        ["git", "status", "--porcelain", "dvc.lock"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout
    assert changed == "", f"dvc.lock changed on a fresh clone: generation is not reproducible\n{changed}"
    status = subprocess.run(
        [dvc, "status", "scenarios", "--json"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(status or "{}") == {}
