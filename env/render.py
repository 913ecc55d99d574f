"""Rendering: rgb_array frames, ANSI text, and GIF/MP4 export of an episode (imageio)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from env.config import ConfigError
from env.core import SwarmSim

SOIL = (70, 52, 34)
SENSED = (134, 112, 78)
OBSTACLE = (38, 38, 46)
BASE = (240, 200, 40)
PLANT_FOUND = (40, 200, 70)
PLANT_HIDDEN = (52, 96, 52)
PLANT_THIRSTY = (226, 140, 30)
DRONE = (225, 35, 35)
DRONE_DOWN = (150, 150, 150)
ANIMATION_SUFFIXES = (".gif", ".mp4")


RENDER_MODES = ("rgb_array", "ansi")


def check_render_mode(render_mode: str | None) -> None:
    """Refuse a render mode the environments cannot produce, naming the allowed ones."""
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode={render_mode!r} is unknown; allowed: {', '.join(RENDER_MODES)}")


def render_mode_frame(sim: SwarmSim, render_mode: str | None, field: int = 0) -> np.ndarray | str | None:
    """What an environment's ``render()`` returns for ``render_mode``: an RGB frame, ANSI text or None."""
    if render_mode == "rgb_array":
        return render_rgb(sim, field)
    if render_mode == "ansi":
        return render_ansi(sim, field)
    return None


def _cell_px(h: int, w: int) -> int:
    return int(max(2, min(16, 512 // max(h, w))))


def render_rgb(sim: SwarmSim, field: int = 0, cell_px: int | None = None) -> np.ndarray:
    """(H*px, W*px, 3) uint8 frame of one field: soil (darker = not yet sensed), obstacles, base,
    plants (recon: found bright, undiscovered dim; watering: orange while thirsty, green when
    satisfied) and drones (red; grey once grounded)."""
    v = sim.field_view(field)
    h, w = v["obstacles"].shape
    px = cell_px or _cell_px(h, w)
    img = np.empty((h, w, 3), dtype=np.uint8)
    img[:] = SOIL
    img[v["covered"]] = SENSED
    img[v["obstacles"]] = OBSTACLE
    if sim.scenario.watering:
        plants = v["plants_known"]
        img[plants & (v["need"] > 0)] = PLANT_THIRSTY
        img[plants & (v["need"] == 0)] = PLANT_FOUND
    else:
        img[v["plants_hidden"]] = PLANT_HIDDEN
        img[v["plants_known"]] = PLANT_FOUND
    by, bx = v["base"]
    img[by, bx] = BASE
    big = np.repeat(np.repeat(img, px, axis=0), px, axis=1)
    m = max(1, px // 4)  # drones are inset squares so the cell colour stays visible
    for y, x, up in zip(v["drones_y"], v["drones_x"], v["active"]):
        big[y * px + m:(y + 1) * px - m, x * px + m:(x + 1) * px - m] = DRONE if up else DRONE_DOWN
    return big


def render_ansi(sim: SwarmSim, field: int = 0, color: bool = False) -> str:
    """Text frame: '#' obstacle, 'B' base, digits drones (index mod 10, 'x' grounded), 'P' plant
    found/satisfied, 'p' undiscovered plant, '*' thirsty plant, '.' sensed, '~' not yet sensed."""
    v = sim.field_view(field)
    h, w = v["obstacles"].shape
    grid = np.full((h, w), "~", dtype="<U1")
    grid[v["covered"]] = "."
    grid[v["obstacles"]] = "#"
    if sim.scenario.watering:
        grid[v["plants_known"] & (v["need"] == 0)] = "P"
        grid[v["plants_known"] & (v["need"] > 0)] = "*"
    else:
        grid[v["plants_hidden"]] = "p"
        grid[v["plants_known"]] = "P"
    by, bx = v["base"]
    grid[by, bx] = "B"
    for i, (y, x, up) in enumerate(zip(v["drones_y"], v["drones_x"], v["active"])):
        grid[y, x] = str(i % 10) if up else "x"
    m = sim.metrics([field])[0]
    head = (f"step {m['steps']}  coverage {m['coverage']:.1%}  plants found {m['plants_found']}/"
            f"{m['plants_total']}  water {m['water_delivered']}/{m['water_need']} "
            f"(wasted {m['water_wasted']})  collisions {m['collisions']}")
    lines = ["".join(row) for row in grid]
    if color:
        colors = {"#": "90", "B": "93", "P": "92", "p": "32", "*": "33", "~": "2"}
        lines = ["".join(f"\x1b[{colors[c]}m{c}\x1b[0m" if c in colors else
                         (f"\x1b[91m{c}\x1b[0m" if c.isdigit() or c == "x" else c) for c in row)
                 for row in grid]
    return "\n".join([head, *lines]) + "\n"


def save_animation(frames: Sequence[np.ndarray], path: str | os.PathLike, fps: int = 8) -> Path:
    """Write frames to a .gif or .mp4 (chosen by suffix). Written to a temporary file first, so a
    failure leaves no partial file behind."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ANIMATION_SUFFIXES:
        raise ConfigError(f"animation path {str(path)!r} has suffix {suffix or '(none)'!r}; "
                          "allowed: .gif, .mp4")
    if not frames:
        raise ConfigError("frames is empty; allowed: at least one frame")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 1 <= fps <= 60:
        raise ConfigError(f"fps={fps!r} is out of range; allowed: 1..60")
    import imageio.v2 as imageio

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=suffix, dir=path.parent, prefix=f".{path.stem}.")
    os.close(fd)
    try:
        if suffix == ".gif":
            fr = [np.asarray(f, dtype=np.uint8) for f in frames]
            imageio.mimsave(tmp, fr, duration=1000.0 / fps, loop=0)
        else:
            # libx264 needs even sizes; pad by one pixel where needed.
            fr = [np.asarray(f, dtype=np.uint8) for f in frames]
            h, w = fr[0].shape[:2]
            ph, pw = h % 2, w % 2
            fr = [np.pad(f, ((0, ph), (0, pw), (0, 0))) for f in fr]
            imageio.mimsave(tmp, fr, fps=fps, codec="libx264", macro_block_size=1)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600 files
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
