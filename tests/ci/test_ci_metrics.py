"""ci.metrics on the metrics.json that training's evaluation really writes (training.evaluate.summarise)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci.errors import CIError
from ci.metrics import compare, load_metrics, markdown_table, openmetrics

pytestmark = pytest.mark.unit


def _rows(ppo_score: float) -> list[dict]:
    """evaluation_results-shaped rows for every policy, two scenario files x two seeds."""
    rows = []
    for policy, score, collisions in (("ppo", ppo_score, 2.0), ("random", 0.3, 9.0), ("lawnmower", 0.7, 1.0),
                                      ("greedy", 0.6, 3.0)):
        for scenario_id, split in (("recon-a", "train"), ("recon-b", "held_out")):
            for seed in (0, 1):
                values = {"score": score + 0.01 * seed, "coverage": 0.9, "collisions": collisions,
                          "episode_return": 10 * score, "time_ratio_lb": 2 / score}
                rows += [{"scenario_id": scenario_id, "split": split, "policy": policy, "seed": seed,
                          "metric": metric, "value": value} for metric, value in values.items()]
    return rows


def _write(tmp_path: Path, name: str, ppo_score: float) -> Path:
    summarise = pytest.importorskip("training.evaluate").summarise
    path = tmp_path / name / "metrics.json"
    path.parent.mkdir()
    path.write_text(json.dumps(summarise(_rows(ppo_score))))
    return path


def test_reads_training_metrics_and_marks_direction(tmp_path: Path) -> None:
    candidate = load_metrics(_write(tmp_path, "candidate", 0.8))
    champion = load_metrics(_write(tmp_path, "champion", 0.75))
    assert candidate["score"] == pytest.approx(0.805)
    # per field: best heuristic's score / the policy's = lawnmower steps / policy steps; median
    assert candidate["time_ratio_to_heuristic"] == pytest.approx((0.7 / 0.8 + 0.71 / 0.81) / 2)
    assert candidate["collisions"] == 2.0  # from policies.ppo
    verdicts = {c.metric: c.verdict for c in compare(candidate, champion)}
    assert verdicts["score"] == verdicts["time_ratio_to_heuristic"] == "improved"  # a lower ratio is better
    assert verdicts["collisions"] == verdicts["coverage"] == "same"
    worse = {c.metric: c.verdict for c in compare(champion, candidate)}
    assert worse["score"] == "worse"
    table = markdown_table(compare(candidate, champion))
    assert table.splitlines()[0] == "| metric | candidate | @champion | Δ | |"
    assert "swarmops_eval_score 0.805\n" in openmetrics(candidate)


@pytest.mark.parametrize("content,message", [
    ("[1, 2]", "must hold a JSON object, got list"),
    ('{"policy": "ppo", "policies": {}}', "has no numeric 'score'"),
    ('{"score": NaN}', "has no numeric 'score'"),
])
def test_bad_metrics_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(content)
    with pytest.raises(CIError, match=message):
        load_metrics(path)
    with pytest.raises(CIError, match="does not exist .*make evaluate"):
        load_metrics(tmp_path / "nope.json")
