"""Large missions stay responsive: progress from the start, frames sized to the field, fast media."""
from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from env.config import FieldConfig
from env.render import DRONE, SOIL
from mission.pipeline import MAX_FRAMES, frame_plan, run_settings
from mission.replay import decode_png, encode_png, to_palette, write_gif
from mission.settings import parse_settings

pytestmark = pytest.mark.unit


def test_frame_plan_bounds_frames_and_pixels() -> None:
    small = FieldConfig(width=12, height=12, n_drones=3, max_steps=300)
    assert frame_plan(small) == (2, 16)  # 150 frames of 192 px: as before
    big = FieldConfig(width=512, height=512, n_drones=128, max_steps=600)
    stride, px = frame_plan(big)
    assert px == 1 and 600 // stride <= MAX_FRAMES // 4  # 60 frames of 512 px


def test_palette_frames_round_trip_and_other_colours_still_work(tmp_path: Path) -> None:
    frame = np.zeros((40, 30, 3), dtype=np.uint8)
    frame[:] = SOIL
    frame[5:9, 7:9] = DRONE
    assert to_palette(frame) is not None
    png = encode_png(frame)
    assert Image.open(io.BytesIO(png)).mode == "P" and np.array_equal(decode_png(png), frame)
    odd = frame.copy()
    odd[0, 0] = (1, 2, 3)  # not a colour env paints: stored as RGB, exactly
    assert to_palette(odd) is None and np.array_equal(decode_png(encode_png(odd)), odd)
    moved = frame.copy()
    moved[5:9, 7:9], moved[6:10, 7:9] = SOIL, DRONE
    write_gif([frame, moved], tmp_path / "a.gif", fps=4)
    write_gif([frame, odd], tmp_path / "b.gif", fps=4)
    for name in ("a.gif", "b.gif"):
        assert Image.open(tmp_path / name).n_frames == 2


def test_large_mission_reports_progress_every_step_from_the_start() -> None:
    settings = parse_settings({"width": 512, "height": 512, "drones": 128, "plants": 100, "obstacles": 0.1,
                               "max_steps": 25, "policy": "heuristic"})
    calls: list[tuple[float, float, str]] = []
    start = time.monotonic()
    result = run_settings(settings, progress=lambda f, m: calls.append((time.monotonic() - start, f, m)))
    assert calls[0][2] == "preparing the field" and calls[0][0] < 0.1
    gaps = np.diff([c[0] for c in calls])
    steps = sum(t.metrics["steps"] for t in result.tracks)
    assert len(calls) >= steps and gaps.max() < 5.0  # every step of every run reports: never silent long
    assert [c[1] for c in calls] == sorted(c[1] for c in calls) and calls[-1][1:] == (1.0, "done")
    assert all(len(t.frames) >= (2 if t.phase == "recon" else 1) for t in result.tracks)
