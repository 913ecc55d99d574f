"""Recon feeds watering: only discovered plants reach the watering map; missed plants are reported."""
from __future__ import annotations

import numpy as np
import pytest

from env.config import FieldConfig
from env.layout import generate_layout
from mission.pipeline import run_phase, run_settings, watering_layout
from mission.policies import heuristic
from mission.settings import parse_settings

pytestmark = pytest.mark.unit


def test_short_recon_misses_plants_and_watering_only_sees_the_found_ones() -> None:
    config = FieldConfig(width=14, height=14, n_drones=2, n_plants=16, max_steps=12, seed=5)
    layout = generate_layout(config, 5)
    recon = run_phase("recon", config, layout, heuristic("recon"), "policy", record=False).metrics
    found = {tuple(c) for c in recon["found_plants"]}
    assert 0 < recon["plants_found"] == len(found) < layout.n_plants  # 12 steps cannot cover 14x14
    wl = watering_layout(layout, recon["found_plants"])
    assert {tuple(map(int, c)) for c in wl.plants} == found
    assert wl.base == layout.base and (wl.obstacles == layout.obstacles).all()
    by_cell = {tuple(map(int, c)): int(n) for c, n in zip(layout.plants, layout.needs)}
    assert [by_cell[tuple(map(int, c))] for c in wl.plants] == wl.needs.tolist()
    water = run_phase("watering", config.replace(max_steps=300), wl, heuristic("watering"), "policy",
                      record=False).metrics
    assert water["plants_total"] == len(found)
    assert water["plants_watered"] <= len(found)


def test_heuristic_mission_report_is_consistent() -> None:
    settings = parse_settings({"width": 10, "height": 10, "drones": 3, "plants": 8, "obstacles": 0.1,
                               "seed": 2, "policy": "heuristic"})
    result = run_settings(settings, record=False)
    rep = result.report
    layout = settings.layout()
    assert rep["field"]["plants_total"] == layout.n_plants == 8
    assert rep["field"]["obstacle_cells"] == int(layout.obstacles.sum())
    for role in ("policy", "heuristic"):
        recon, water = rep["phases"]["recon"][role], rep["phases"]["watering"][role]
        total = rep["mission"][role]
        assert water["plants_total"] == recon["plants_found"]
        assert total["plants_missed"] == 8 - recon["plants_found"]
        assert total["plants_watered"] == water["plants_watered"] <= recon["plants_found"]
        assert total["energy"] == recon["energy"] + water["energy"] > 0
        assert total["water_used"] == water["water_delivered"] + water["water_wasted"]
        assert recon["coverage"] >= 0.95 or recon["steps"] == settings.field_config().max_steps
    # Same field, same (heuristic) policy on both sides: the two columns must agree exactly.
    assert {k: v for k, v in rep["mission"]["policy"].items() if k != "wall_s"} == \
        {k: v for k, v in rep["mission"]["heuristic"].items() if k != "wall_s"}
    assert not result.warnings


def test_watering_only_mode_waters_the_full_map() -> None:
    settings = parse_settings({"width": 8, "height": 8, "drones": 2, "plants": 5, "mode": "watering",
                               "policy": "heuristic", "seed": 4})
    rep = run_settings(settings, record=False).report
    assert list(rep["phases"]) == ["watering"] and rep["mission"] is None
    assert rep["phases"]["watering"]["policy"]["plants_total"] == 5
    assert np.isclose(rep["phases"]["watering"]["heuristic"]["water_delivered"],
                      int(settings.layout().needs.sum()))
