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


def encode_png(frame: np.ndarray) -> bytes:
    """RGB uint8 array -> PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(frame, dtype=np.uint8)).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


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
