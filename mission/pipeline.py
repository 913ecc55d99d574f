"""Reconnaissance feeds watering: run the phases on one field, next to the heuristic pair.

The mission runs on one explicit ``env.layout.Layout``: recon starts with every plant hidden; the
plants it discovered (with the needs its sensors measured) become the watering layout, so plants
the recon missed cannot be watered and are reported as missed. The heuristic pair runs the same
field through the same two steps, and every number in the report comes from env's own counters
(``SwarmSim.metrics``), never recomputed here.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from mission.jobs import ProgressFn
from mission.policies import ResolvedPolicy, heuristic, resolve_policy
from mission.replay import Track
from mission.settings import RunSettings

log = logging.getLogger(__name__)
#: at most this many frames per track (long episodes are subsampled, the last frame always kept)
MAX_FRAMES = 240
#: ... and at most this many field cells in all of a track's frames: a 512 x 512 field keeps 60
#: frames, so recording stays a few seconds per track however large the field
MAX_FRAME_CELLS = MAX_FRAMES * 256 * 256
#: frames are at most about this many pixels wide or high (1 px per cell on a 512 x 512 field)
FRAME_PX = 512


def frame_plan(config: Any) -> tuple[int, int]:
    """(steps between recorded frames, pixels per cell) of a track on ``config``'s field."""
    cells = config.width * config.height
    frames = max(1, min(MAX_FRAMES, MAX_FRAME_CELLS // cells))
    px = max(1, min(16, FRAME_PX // max(config.width, config.height)))
    return max(1, -(-config.max_steps // frames)), px


@dataclass
class RunResult:
    """Everything a run produced: tracks to replay, the report, figures, warnings."""

    settings: RunSettings
    tracks: list[Track]
    report: dict[str, Any]
    figures: dict[str, bytes] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def report_md(self) -> str:
        """The report as Markdown."""
        from mission.report import to_markdown

        return to_markdown(self.report)

    def describe(self) -> dict[str, Any]:
        """What the web page needs (tracks with per-step status, figure names, comparison rows)."""
        from mission.report import comparison_rows

        return {"settings": self.settings.to_dict(), "warnings": self.warnings,
                "phases": list(self.report["phases"]), "plants_total": self.report["field"]["plants_total"],
                "tracks": [t.describe() for t in self.tracks],
                "figures": [{"name": n, "title": n} for n in self.figures],
                "comparison": comparison_rows(self.report)}


def _noop(_fraction: float, _message: str) -> None:
    pass


def status_of(sim: Any) -> dict[str, Any]:
    """Status bar of field 0 after the current step, read from env's own counters."""
    c = sim.counters
    return {"step": int(c["step"][0]), "coverage": round(float(sim.coverage()[0]), 4),
            "plants_found": int(c["plants_total" if sim.scenario.watering else "plants_found"][0]),
            "plants_watered": int(c["plants_watered"][0]), "energy": int(c["energy"][0]),
            "water": int(c["delivered"][0]), "water_wasted": int(c["wasted"][0])}


def run_phase(scenario: str, config: Any, layout: Any, policy: ResolvedPolicy, role: str,
              progress: Callable[[float], None] = lambda _f: None, record: bool = True) -> Track:
    """Run one episode of ``scenario`` on ``layout`` with env's ``run_episodes``; frames via its hook."""
    from env.rollout import run_episodes

    if record:
        from env.render import render_rgb

    track = Track(phase=scenario, role=role, label=policy.label)
    stride, px = frame_plan(config)

    def on_step(sim: Any) -> None:
        step = int(sim.counters["step"][0])
        done = bool(sim.finished[0])
        if record and (step % stride == 0 or done or step == 1):
            track.add(render_rgb(sim, 0, cell_px=px), status_of(sim))
        progress(step / config.max_steps)  # every step: the callers decide how often to show it

    if not policy.is_heuristic:
        import torch

        torch.manual_seed(config.seed)  # PPO policies sample their actions: same settings, same run
    started = time.perf_counter()
    metrics = run_episodes(scenario, config, policy.act, num_fields=1, seed=config.seed, layouts=[layout],
                           on_step=on_step)[0]
    metrics.pop("coverage_curve", None)  # the track's status already holds the curve
    track.metrics = dict(metrics, wall_s=round(time.perf_counter() - started, 3),
                         water_used=metrics["water_delivered"] + metrics["water_wasted"])
    progress(1.0)
    return track


def watering_layout(layout: Any, found: list[list[int]]) -> Any:
    """The watering map: the plants recon found (with the needs it measured), same base and obstacles."""
    from env.layout import Layout

    seen = {(int(y), int(x)) for y, x in found}
    idx = np.array([(int(y), int(x)) in seen for y, x in layout.plants], dtype=bool)
    return Layout(width=layout.width, height=layout.height, base=layout.base,
                  plants=layout.plants[idx].reshape(-1, 2).copy(), needs=layout.needs[idx].copy(),
                  obstacles=layout.obstacles.copy())


def _field_summary(settings: RunSettings, layout: Any) -> dict[str, Any]:
    return {"width": layout.width, "height": layout.height, "base": list(layout.base),
            "plants_total": layout.n_plants, "obstacle_cells": int(layout.obstacles.sum()),
            "free_cells": layout.free_cells, "seed": settings.seed}


def _mission_totals(recon: dict[str, Any], water: dict[str, Any], plants_total: int) -> dict[str, Any]:
    """Whole-mission numbers of one policy pair (sums over the two phases)."""
    return {"plants_total": plants_total, "plants_found": recon["plants_found"],
            "plants_watered": water["plants_watered"], "plants_missed": plants_total - recon["plants_found"],
            "plants_unwatered": recon["plants_found"] - water["plants_watered"],
            "steps": recon["steps"] + water["steps"], "wall_s": round(recon["wall_s"] + water["wall_s"], 3),
            "water_used": water["water_used"], "water_wasted": water["water_wasted"],
            "energy": recon["energy"] + water["energy"],
            "collisions": recon["collisions"] + water["collisions"]}


def run_settings(settings: RunSettings, progress: ProgressFn = _noop, record: bool = True) -> RunResult:
    """Run a mission (recon -> watering) or a single scenario, with the heuristic on the same field."""
    from mission.report import curves_figure

    progress(0.0, "preparing the field")
    config = settings.field_config()
    layout = settings.layout()
    scenarios = settings.scenarios()
    progress(0.0, "resolving the policies")
    policies = {s: resolve_policy(s, settings.policy_for(s)) for s in scenarios}
    warnings = [p.warning for p in policies.values() if p.warning]
    for w in warnings:
        log.warning(w)
    runs = [(s, role) for s in scenarios for role in ("policy", "heuristic")]
    tracks: dict[tuple[str, str], Track] = {}
    for i, (scenario, role) in enumerate(runs):
        chosen = policies[scenario] if role == "policy" else heuristic(scenario)
        if scenario == "watering" and settings.mode == "mission":
            # Each pair waters what its own recon found.
            field_layout = watering_layout(layout, tracks[("recon", role)].metrics["found_plants"])
        else:
            field_layout = layout
        label = f"{scenario} · {role} · {chosen.label}"
        progress(i / len(runs), label)

        def sub(fraction: float, i: int = i, label: str = label) -> None:
            progress((i + fraction) / len(runs), label)

        tracks[(scenario, role)] = run_phase(scenario, config, field_layout, chosen, role, progress=sub,
                                             record=record)
    phases = {s: {role: tracks[(s, role)].metrics for role in ("policy", "heuristic")} for s in scenarios}
    report: dict[str, Any] = {
        "settings": settings.to_dict(), "field": _field_summary(settings, layout), "warnings": warnings,
        "policies": {s: {"policy": tracks[(s, "policy")].label, "heuristic": tracks[(s, "heuristic")].label}
                     for s in scenarios},
        "phases": phases, "mission": None}
    if settings.mode == "mission":
        report["mission"] = {role: _mission_totals(phases["recon"][role], phases["watering"][role],
                                                   layout.n_plants) for role in ("policy", "heuristic")}
    ordered = [tracks[r] for r in runs]
    figures = {"curves": curves_figure(ordered)} if record else {}
    progress(1.0, "done")
    return RunResult(settings, ordered, report, figures, warnings)
