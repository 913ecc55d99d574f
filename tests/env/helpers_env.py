"""Small hand-made fields for the simulator tests."""
from __future__ import annotations

from typing import Any

import numpy as np

from env.config import FieldConfig
from env.core import SwarmSim
from env.layout import Layout


def make_layout(width: int = 6, height: int = 5, base: tuple[int, int] = (0, 0),
                plants: list[tuple[int, int]] | None = None, needs: list[int] | None = None,
                obstacles: list[tuple[int, int]] | None = None) -> Layout:
    """A Layout from plain lists."""
    obst = np.zeros((height, width), dtype=bool)
    for y, x in obstacles or []:
        obst[y, x] = True
    plants = plants or []
    return Layout(width=width, height=height, base=base,
                  plants=np.array(plants, dtype=np.int64).reshape(-1, 2),
                  needs=np.array(needs if needs is not None else [1] * len(plants), dtype=np.int64),
                  obstacles=obst)


def make_sim(scenario: str, layout: Layout, n_drones: int = 1, auto_reset: bool = False,
             **cfg: Any) -> SwarmSim:
    """One field with ``layout``."""
    params = dict(width=layout.width, height=layout.height, n_drones=n_drones, n_plants=layout.n_plants,
                  sensor_radius=0, max_steps=100)
    params.update(cfg)
    return SwarmSim(scenario, FieldConfig(**params), 1, layouts=[layout], auto_reset=auto_reset)


def pos(sim: SwarmSim, field: int = 0) -> list[tuple[int, int]]:
    """(y, x) of each drone of a field."""
    y, x = sim.positions()
    return list(zip(y[field].tolist(), x[field].tolist()))
