"""Rendering: rgb frames, ANSI text, GIF/MP4 export (and refusal of bad output paths)."""
from __future__ import annotations

from pathlib import Path

import imageio.v2 as imageio
import imageio_ffmpeg
import numpy as np
import pytest

from env.config import ConfigError, FieldConfig
from env.core import SwarmSim
from env.render import OBSTACLE, render_ansi, render_rgb, save_animation

pytestmark = pytest.mark.unit


def _frames(scenario: str, n: int = 6) -> tuple[SwarmSim, list[np.ndarray]]:
    cfg = FieldConfig(width=12, height=9, n_drones=3, n_plants=8, obstacle_density=0.2)
    sim = SwarmSim(scenario, cfg, 1, seed=2)
    frames = [render_rgb(sim)]
    rng = np.random.default_rng(0)
    for _ in range(n - 1):
        sim.step(rng.integers(0, sim.scenario.n_actions, 3))
        frames.append(render_rgb(sim))
    return sim, frames


def test_rgb_frame_draws_obstacles_base_and_drones() -> None:
    sim, frames = _frames("recon")
    px = frames[0].shape[0] // 9
    assert frames[0].shape == (9 * px, 12 * px, 3) and frames[0].dtype == np.uint8
    view = sim.field_view(0)
    y, x = np.argwhere(view["obstacles"])[0]
    assert tuple(frames[-1][y * px, x * px]) == OBSTACLE


def test_ansi_shows_every_drone_and_obstacle() -> None:
    sim, _ = _frames("watering")
    text = render_ansi(sim)
    grid = text.splitlines()[1:]
    assert len(grid) == 9 and all(len(row) == 12 for row in grid)
    assert sum(row.count("#") for row in grid) == int(sim.field_view(0)["obstacles"].sum())
    assert "\x1b[" in render_ansi(sim, color=True)


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_animation_export_is_readable(tmp_path: Path, suffix: str) -> None:
    _, frames = _frames("recon")
    out = save_animation(frames, tmp_path / f"sub/episode{suffix}", fps=5)
    if suffix == ".gif":
        back = imageio.mimread(out)
        # GIF writers merge identical consecutive frames (their durations add up).
        assert 2 <= len(back) <= len(frames) and back[0].shape[:2] == frames[0].shape[:2]
    else:
        reader = imageio_ffmpeg.read_frames(str(out))
        meta = next(reader)
        assert tuple(meta["size"]) == (frames[0].shape[1], frames[0].shape[0])
        assert sum(1 for _ in reader) == len(frames)
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no temporary file left


def test_bad_animation_requests_are_refused_without_writing(tmp_path: Path) -> None:
    _, frames = _frames("recon", 2)
    with pytest.raises(ConfigError, match="allowed: .gif, .mp4"):
        save_animation(frames, tmp_path / "x.avi")
    with pytest.raises(ConfigError, match="fps=0 is out of range"):
        save_animation(frames, tmp_path / "x.gif", fps=0)
    with pytest.raises(ConfigError, match="frames is empty"):
        save_animation([], tmp_path / "x.gif")
    assert list(tmp_path.iterdir()) == []
