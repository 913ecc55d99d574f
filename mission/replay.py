"""What a run leaves for people to watch: per-phase tracks of PNG frames and per-step status."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: keys of one status-bar entry, in display order
STATUS_KEYS = ("step", "coverage", "plants_found", "plants_watered", "energy", "water")
ROLES = ("policy", "heuristic")


@dataclass
class Track:
    """One phase run by one policy: frames (PNG bytes) and the status bar under each frame."""

    phase: str
    """Scenario of this phase: recon or watering."""
    role: str
    """`policy` (what was asked for) or `heuristic` (the comparison on the same field)."""
    label: str
    """Human name of the policy that actually ran (after any fallback)."""
    frames: list[bytes] = field(default_factory=list)
    status: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Stable id used in URLs: ``<phase>-<role>``."""
        return f"{self.phase}-{self.role}"

    def add(self, frame: np.ndarray, status: dict[str, Any]) -> None:
        """Append one step: the RGB frame is PNG-encoded at once (a few kB instead of a raw array)."""
        self.frames.append(encode_png(frame))
        self.status.append(status)

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (frames by count; the page fetches them one by one)."""
        return {"key": self.key, "phase": self.phase, "role": self.role, "label": self.label,
                "frames": len(self.frames), "status": self.status, "metrics": self.metrics}


def _palette() -> tuple[np.ndarray, list[int]]:
    """Every colour env.render paints, plus the white gap between two frames: sorted 24-bit keys
    and the flat RGB list PIL wants."""
    from env import render

    colours = [render.SOIL, render.SENSED, render.OBSTACLE, render.BASE, render.PLANT_FOUND,
               render.PLANT_HIDDEN, render.PLANT_THIRSTY, render.DRONE, render.DRONE_DOWN, (255, 255, 255)]
    keys = np.array(sorted({(r << 16) | (g << 8) | b for r, g, b in colours}), dtype=np.uint32)
    flat = [int(k) >> sh & 255 for k in keys for sh in (16, 8, 0)]
    return keys, flat


_KEYS, _FLAT = _palette()


def to_palette(frame: np.ndarray) -> np.ndarray | None:
    """(H, W) uint8 palette indices of an RGB frame, or None when it holds a colour env does not paint.

    A fixed palette makes large frames cheap to store and animate: no colour quantisation per frame
    (that took 0.19 s for one 1024 x 1024 GIF frame)."""
    f = np.asarray(frame, dtype=np.uint8)
    key = (f[..., 0].astype(np.uint32) << 16) | (f[..., 1].astype(np.uint32) << 8) | f[..., 2]
    idx = np.minimum(np.searchsorted(_KEYS, key), len(_KEYS) - 1)
    if not np.array_equal(_KEYS[idx], key):
        return None
    return idx.astype(np.uint8)


def _image(frame: np.ndarray) -> Any:
    from PIL import Image

    idx = to_palette(frame)
    if idx is None:
        return Image.fromarray(np.asarray(frame, dtype=np.uint8))
    img = Image.fromarray(idx, mode="P")
    img.putpalette(_FLAT)
    return img


def encode_png(frame: np.ndarray) -> bytes:
    """RGB uint8 array -> PNG bytes (palette PNG when env's colours suffice; fast zlib level)."""
    buf = io.BytesIO()
    _image(frame).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def write_gif(frames: list[np.ndarray], path: Any, fps: int) -> None:
    """Write RGB frames as a looping GIF with env's fixed palette (no per-frame quantisation);
    frames with other colours go through env.render.save_animation."""
    images = [_image(f) for f in frames]
    if any(im.mode != "P" for im in images):
        from env.render import save_animation

        save_animation(frames, path, fps=fps)
        return
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=1000.0 / fps,
                   loop=0, optimize=False)


def decode_png(data: bytes) -> np.ndarray:
    """PNG bytes -> RGB uint8 array."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def side_by_side(left: list[bytes], right: list[bytes], gap: int = 6) -> list[np.ndarray]:
    """Frames of two tracks joined horizontally, the shorter one holding its last frame."""
    n = max(len(left), len(right))
    out = []
    for i in range(n):
        a = decode_png(left[min(i, len(left) - 1)])
        b = decode_png(right[min(i, len(right) - 1)])
        h = max(a.shape[0], b.shape[0])
        canvas = np.full((h, a.shape[1] + gap + b.shape[1], 3), 255, dtype=np.uint8)
        canvas[:a.shape[0], :a.shape[1]] = a
        canvas[:b.shape[0], a.shape[1] + gap:] = b
        out.append(canvas)
    return out
