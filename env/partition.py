"""Area-balanced partition sweep for recon (a DARP-like strong baseline).

The lawnmower splits the serpentine lane path into equal LENGTHS, so on a field with obstacles one
drone may get a strip that is half rock while another gets open ground. Here each field's lane path
is split into parts holding equal numbers of REACHABLE free cells to sense (the cells within the
sensor band of each path point), so every drone has the same amount of work; obstacle edges along a
lane become way points too, so a lane interrupted by rock is resumed on its far side. The sweep
itself (way points, BFS navigation, mop-up of the nearest uncovered cell) is the lawnmower's.
"""

from __future__ import annotations

import numpy as np

from env.baselines import _NONE, Lawnmower
from env.core import BIT_BLOCKED, SwarmSim
from env.layout import UNREACHABLE


class Partition(Lawnmower):
    """Lawnmower sweep over per-field, area-balanced parts of the lane path (one part per drone)."""

    name = "partition"

    def __init__(self, sim: SwarmSim) -> None:
        super().__init__(sim)  # refuses the watering scenario with the same one-line error
        self.wp = self._waypoints(np.arange(sim.B))

    def reset_fields(self, fields: np.ndarray) -> None:
        """New episodes may have new layouts: rebuild their parts, then restart their sweeps."""
        fields = np.asarray(fields, dtype=np.int64)
        wp = self._waypoints(fields)
        m = max(self.wp.shape[2], wp.shape[2])
        grown = np.full((self.sim.B, self.sim.N, m), _NONE, dtype=np.int64)
        grown[:, :, : self.wp.shape[2]] = self.wp
        grown[fields] = _NONE
        grown[fields, :, : wp.shape[2]] = wp
        self.wp = grown
        super().reset_fields(fields)

    def _waypoints(self, fields: np.ndarray) -> np.ndarray:
        """(len(fields), N, M) padded way-point cells of each drone's balanced part."""
        sim, cfg = self.sim, self.sim.config
        r, p, n = cfg.sensor_radius, sim.P, sim.N
        step = 2 * r + 1
        lanes = list(range(min(r, cfg.height - 1), cfg.height, step))
        if lanes[-1] < cfg.height - 1 - r:
            lanes.append(cfg.height - 1 - r)
        ys, xs = [], []
        for i, y in enumerate(lanes):
            cols = np.arange(cfg.width) if i % 2 == 0 else np.arange(cfg.width - 1, -1, -1)
            ys.append(np.full(cfg.width, y))
            xs.append(cols)
        py, px = np.concatenate(ys), np.concatenate(xs)
        lane_of = np.repeat(np.arange(len(lanes)), cfg.width)
        # Rows each lane is responsible for: its sensor band, without the rows of the previous lane.
        band_lo = np.maximum(py - r, 0)
        prev_hi = np.r_[-1, [lanes[i - 1] + r for i in range(1, len(lanes))]][lane_of]
        band_lo = np.maximum(band_lo, prev_hi + 1)
        band_hi = np.minimum(py + r, cfg.height - 1)
        out = []
        for f in fields.tolist():
            grid = sim.dist.reshape(sim.B, sim.Hp, sim.Wp)[f, p:p + sim.H, p:p + sim.W]
            reach = grid < UNREACHABLE
            csum = np.vstack([np.zeros((1, sim.W), dtype=np.int64), np.cumsum(reach, axis=0)])
            weight = csum[band_hi + 1, px] - csum[band_lo, px]  # reachable cells sensed from each point
            blocked = (sim.packed.reshape(sim.B, sim.Hp, sim.Wp)[f, py + p, px + p] & BIT_BLOCKED) > 0
            total = max(int(weight.sum()), 1)
            cum = np.cumsum(weight)
            cuts = np.searchsorted(cum, total * np.arange(1, n) / n, side="left") + 1
            parts = np.split(np.arange(len(py)), cuts)
            wps = []
            for part in parts:
                keep = []
                for k, j in enumerate(part):
                    if blocked[j]:
                        continue
                    edge = k in (0, len(part) - 1)
                    turn = (k > 0 and lane_of[part[k - 1]] != lane_of[j]) or (
                        k < len(part) - 1 and lane_of[part[k + 1]] != lane_of[j]
                    )
                    rock = (k > 0 and blocked[part[k - 1]]) or (k < len(part) - 1 and blocked[part[k + 1]])
                    if edge or turn or rock:
                        keep.append((py[j] + p) * sim.Wp + px[j] + p)
                wps.append(keep)
            out.append(wps)
        m = max(1, max(len(w) for wps in out for w in wps))
        arr = np.full((len(fields), n, m), _NONE, dtype=np.int64)
        for i, wps in enumerate(out):
            for d, w in enumerate(wps):
                arr[i, d, : len(w)] = w
        return arr
