"""The vectorised simulator: B independent fields x N drones stepped by one array program.

All per-field maps live in one flat uint8 array ``packed`` of B padded fields (padding = the
observation radius, marked as blocked), so a drone's position is one flat index and moving,
sensing, collision tests and the observation window are gathers/scatters with no Python loop over
drones or fields. Bits of ``packed``: see the BIT_* constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from env.bounds import coverage_lower_bound, sensing_release
from env.config import OBS_RADIUS, FieldConfig
from env.layout import UNREACHABLE, LayoutBatch, LayoutPrefetch, batch_from_layouts, sector_owners
from env.scenarios import WATER, Scenario, get_scenario
from env.sorties import SortieBook
from env.waves import compass_waves, target_ways

BIT_BLOCKED, BIT_COVERED, BIT_PLANT, BIT_DRONE, BIT_BASE = 1, 2, 4, 8, 16
NEED_SHIFT = 5  # bits 5..7: remaining water need of the plant on the cell (0..7)
COARSE = 4  # the global summary is a COARSE x COARSE grid of "work left" fractions
WINDOW = 2 * OBS_RADIUS + 1
N_CHANNELS = 5  # channel-major window planes: blocked, covered, plant, drone, need/7
OWN_FEATURES = 12
GLOBAL_FEATURES = 4 + COARSE * COARSE
# Far field (multi-scale egocentric maps): FAR_GRID x FAR_GRID blocks of FAR_BLOCK x FAR_BLOCK cells
# centred on the drone, each summarised by the fraction of its cells with work left (recon: free
# and uncovered; watering: a plant needing water), then the fraction blocked (obstacle or outside).
FAR_GRID = 5
FAR_BLOCK = 5
FAR_FEATURES = 2 * FAR_GRID * FAR_GRID
FAR_REACH = FAR_GRID // 2 * FAR_BLOCK + FAR_BLOCK // 2  # cells from a drone to its far field's edge
_FAR_STEPS = np.arange(FAR_GRID) * FAR_BLOCK  # block starts, relative to the drone - FAR_REACH
# Identity features (drone index / (N-1), golden-ratio hash of the index): identical drones that see
# the same thing can still act differently, so deterministic (argmax) acting does not collide.
ID_FEATURES = 2
# Frontier compass: the way to the nearest cell with work left, around obstacles (geodesic distance):
# for up, down, left, right whether that move is a step along a shortest path (0/1 each), then the
# distance / (height + width) capped at 1; all zero when no work is reachable. It reads the same on
# any field size, unlike the absolute coarse grid. (v3 used the straight-line direction.) v5: the
# drone's own region first (below); watering: an empty tank's compass shows the way home instead.
COMPASS_FEATURES = 5
# v5: a drone is led to work of its own region first (cells nearer to it than to any other drone, in
# watering any other drone carrying water, within REGION_REACH steps; farther cells have no owner).
# 48 (was 24): on the 64 x 64 held-out watering field, carriers whose region held no needy plant
# within 24 steps all took the nearest plant anywhere (the default policy there: 0.72 -> 0.80 of
# greedy's net water per step; recon unchanged: its regions find work nearer). Fields the profiles
# train on rarely reach 24 steps. Cost: the watering step at 64 x 64 / 16 drones x0.9.
REGION_REACH = 48
# v7 (recon, SECTOR_REGIONS): a drone's own region is its sector of the field instead, fixed for the
# episode: the reachable cells cut into one wedge of equal size per drone around the base
# (env.layout.sector_owners, as the sector sweep heuristic), and its compass leads to the nearest
# work of its sector by any way. Regions of nearest cells move with the drones, so the swarm fanned
# out but kept crossing ground another drone had sensed; the v6 `default` models needed 1.07-1.11x
# the sector sweep's steps on the held-out fields (docs/policy.md).
OBS_DIM = (
    WINDOW * WINDOW * N_CHANNELS + OWN_FEATURES + GLOBAL_FEATURES + FAR_FEATURES + ID_FEATURES
    + COMPASS_FEATURES
)
OBS_LAYOUT_VERSION = 8  # v8: watering drones fly the field's plan (v7: recon regions are sectors)
"""Bumped whenever the meaning or order of observation features changes; saved in every model
(training.registry refuses a model of another version)."""
GOLDEN = 0.6180339887498949
_BIG = np.iinfo(np.int32).max


def line_of_sight_matrix(radius: int) -> np.ndarray:
    """(S, S) bool: M[j, k] when window cell j lies strictly between the centre and cell k."""
    offs = [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)]
    index = {o: i for i, o in enumerate(offs)}
    mat = np.zeros((len(offs), len(offs)), dtype=bool)
    for k, (dy, dx) in enumerate(offs):
        n = max(abs(dy), abs(dx))
        for t in range(1, n):
            cell = (round(dy * t / n), round(dx * t / n))
            if cell != (0, 0) and cell != (dy, dx):
                mat[index[cell], k] = True
    return mat


@dataclass
class StepResult:
    """What one batched step returns (rows = field * n_drones + drone)."""

    obs: np.ndarray  # (B*N, OBS_DIM) float32, after auto-reset
    rewards: np.ndarray  # (B*N,) float32
    terminated: np.ndarray  # (B,) bool
    truncated: np.ndarray  # (B,) bool
    done_fields: np.ndarray  # indices of fields that finished this step
    terminal_obs: np.ndarray | None  # (len(terminal_fields)*N, OBS_DIM) last observation before reset
    metrics: list[dict[str, Any]]  # one metrics dict per done field, in done_fields order
    # fields whose terminal_obs rows are given (auto-reset only): every done field, or only the
    # truncated ones when the simulator was made with observe_terminated=False
    terminal_fields: np.ndarray


class SwarmSim:
    """Batched fields of one scenario and config; ``step`` takes one action per drone row."""

    def __init__(
        self,
        scenario: str | Scenario,
        config: FieldConfig,
        num_fields: int,
        seed: int | None = None,
        layouts: list | None = None,
        auto_reset: bool = True,
        observe_terminated: bool = True,
    ) -> None:
        """``observe_terminated=False`` (auto-reset only): ``step`` gives the final observation of
        truncated fields only, saving one observation pass on most steps; PPO reads it only to
        bootstrap a truncated episode's value."""
        self.scenario = scenario if isinstance(scenario, Scenario) else get_scenario(scenario)
        self.config = config
        self.B, self.N = int(num_fields), config.n_drones
        if self.B < 1:
            raise ValueError(f"num_fields={num_fields} is out of range; allowed: >= 1")
        self.seed = config.seed if seed is None else int(seed)
        self.auto_reset = auto_reset
        self.observe_terminated = observe_terminated
        self.fixed: LayoutBatch | None = None
        if layouts is not None:
            if len(layouts) != self.B:
                raise ValueError(
                    f"layouts has {len(layouts)} entries for num_fields={self.B}; allowed: equal"
                )
            self.fixed = batch_from_layouts(list(layouts), config)
        # Auto-reset (training) walks each field through its episodes: draw their layouts in blocks.
        # Without it, episodes restart on every reset(seed): lone draws waste nothing.
        self.prefetch = LayoutPrefetch(config, self.B, ahead=auto_reset)
        h, w, p = config.height, config.width, OBS_RADIUS
        self.H, self.W, self.P = h, w, p
        self.Hp, self.Wp = h + 2 * p, w + 2 * p
        self.C = self.Hp * self.Wp
        self.field_off = np.arange(self.B, dtype=np.int64) * self.C
        wp, r = self.Wp, config.sensor_radius
        self.move_delta = np.array([0, -wp, wp, -1, 1, 0], dtype=np.int64)
        self.sense_off = np.array(
            [dy * wp + dx for dy in range(-r, r + 1) for dx in range(-r, r + 1)], np.int64
        )
        self.los = (
            line_of_sight_matrix(r).astype(np.float32) if config.obstacles_block_sensor and r > 1 else None
        )
        self.row_off = np.arange(WINDOW, dtype=np.int64) * wp - p * wp - p
        yy, xx = np.mgrid[0:self.Hp, 0:self.Wp]
        inside = (yy >= p) & (yy < p + h) & (xx >= p) & (xx < p + w)
        block = ((yy - p) * COARSE // h) * COARSE + (xx - p) * COARSE // w
        self.block_of = np.where(inside, block, COARSE * COARSE).ravel().astype(np.int64)
        self.cell_y = (yy - p).ravel().astype(np.float32)
        self.cell_x = (xx - p).ravel().astype(np.float32)
        self.cell_yi, self.cell_xi = (yy - p).ravel().astype(np.int32), (xx - p).ravel().astype(np.int32)
        self._alloc()
        self.reset()

    # ------------------------------------------------------------------ state
    def _alloc(self) -> None:
        b, n, c = self.B, self.N, self.C
        self.packed = np.full(b * c, BIT_BLOCKED, dtype=np.uint8)
        self.need = np.zeros(b * c, dtype=np.int8)
        self.hidden = np.zeros(b * c, dtype=bool)  # recon: plants not yet discovered
        self.dist = np.full(b * c, UNREACHABLE, dtype=np.int32)
        self.sector = np.full(b * c, -1, dtype=np.int32)  # owner of each cell (env.layout.sector_owners)
        self.scratch = np.full(b * c, _BIG, dtype=np.int32)
        span = 2 * FAR_REACH - FAR_BLOCK + 1
        self.far_blocked = np.zeros((b, (self.H + span) * (self.W + span)), dtype=np.uint8)
        self.cell = np.zeros((b, n), dtype=np.int64)  # padded cell index within the field
        self.base_cell = np.zeros(b, dtype=np.int64)
        self.battery = np.zeros((b, n), dtype=np.int64)
        self.tank = np.zeros((b, n), dtype=np.int64)
        self.active = np.zeros((b, n), dtype=bool)
        self.on_trip = np.zeros((b, n), dtype=bool)
        self.book = SortieBook(b, n)  # watering's plan (layout v8, PLANNED_WORK)
        self._ways: np.ndarray | None = None  # (B, N, C) int32, made on first use (planned scenarios)
        self._way_goal = np.full((b, n), -1, dtype=np.int64)  # the cell each drone's map leads to
        self.trip_delivered = np.zeros((b, n), dtype=np.int64)
        self.episode = np.full(b, -1, dtype=np.int64)
        self.finished = np.zeros(b, dtype=bool)
        self.coarse_rem = np.zeros((b, COARSE * COARSE + 1), dtype=np.float64)
        self.coarse_tot = np.ones((b, COARSE * COARSE + 1), dtype=np.float64)
        self.counters: dict[str, np.ndarray] = {}
        for name in (
            "step",
            "free",
            "covered",
            "goal_cells",
            "plants_total",
            "plants_found",
            "need_total",
            "delivered",
            "wasted",
            "drawn",
            "collisions",
            "depletions",
            "energy",
            "wasted_trips",
            "bumps",
            "steps_to_95",
            "drone_steps_to_95",
            "idle_steps_to_95",
            "lower_bound",
            "plants_watered",
        ):
            self.counters[name] = np.zeros(b, dtype=np.int64)
        self.ret = np.zeros(b, dtype=np.float64)

    @property
    def num_rows(self) -> int:
        """Rows of the shared-policy batch: one per drone of each field."""
        return self.B * self.N

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Reset every field (episode counters restart); returns the observation rows."""
        if seed is not None:
            self.seed = int(seed)
        self.episode[:] = -1
        self._reset_fields(np.arange(self.B))
        return self.observe(np.arange(self.B))

    def reset_fields(self, fields: np.ndarray) -> np.ndarray:
        """Start the next episode on ``fields`` only; returns their observation rows."""
        fields = np.asarray(fields, dtype=np.int64)
        self._reset_fields(fields)
        return self.observe(fields)

    def _layouts_for(self, fields: np.ndarray) -> LayoutBatch:
        if self.fixed is not None:
            f = self.fixed
            return LayoutBatch(
                f.obstacles[fields], f.base[fields], f.plants[fields], f.needs[fields], f.dist[fields]
            )
        return self.prefetch.get(self.seed, fields, self.episode[fields])

    def _reset_fields(self, fields: np.ndarray) -> None:
        """Start a new episode on ``fields`` (one array program for all of them)."""
        cfg, k, p = self.config, len(fields), self.P
        self.episode[fields] += 1
        lay = self._layouts_for(fields)
        h, w = self.H, self.W
        pk = np.full((k, self.Hp, self.Wp), BIT_BLOCKED, dtype=np.uint8)
        inner = np.where(lay.obstacles, BIT_BLOCKED, 0).astype(np.uint8)
        needs = lay.needs.astype(np.int8)
        if self.scenario.watering:
            inner |= np.where(lay.plants, BIT_PLANT, 0).astype(np.uint8)
            inner |= np.minimum(needs, 7).astype(np.uint8) << NEED_SHIFT
        pk[:, p:p + h, p:p + w] = inner
        base_cell = (lay.base[:, 0] + p) * self.Wp + lay.base[:, 1] + p
        pk.reshape(k, -1)[np.arange(k), base_cell] |= BIT_BASE
        view = (slice(None), slice(p, p + h), slice(p, p + w))
        self.packed.reshape(self.B, self.Hp, self.Wp)[fields] = pk
        nd = np.zeros((k, self.Hp, self.Wp), dtype=np.int8)
        nd[view] = needs if self.scenario.watering else 0
        self.need.reshape(self.B, self.Hp, self.Wp)[fields] = nd
        hd = np.zeros((k, self.Hp, self.Wp), dtype=bool)
        hd[view] = lay.plants if not self.scenario.watering else False
        self.hidden.reshape(self.B, self.Hp, self.Wp)[fields] = hd
        dd = np.full((k, self.Hp, self.Wp), UNREACHABLE, dtype=np.int32)
        dd[view] = lay.dist
        self.dist.reshape(self.B, self.Hp, self.Wp)[fields] = dd
        for f, part, base in zip(fields.tolist(), dd.reshape(k, -1), base_cell.tolist()):
            self.sector[f * self.C:(f + 1) * self.C] = sector_owners(part, base, self.Wp, self.N)
        # Far-field blocked counts: obstacles, and every cell outside the field.
        fb = np.ones((k, h + 2 * FAR_REACH, w + 2 * FAR_REACH), dtype=np.uint8)
        fb[:, FAR_REACH:FAR_REACH + h, FAR_REACH:FAR_REACH + w] = lay.obstacles
        self.far_blocked[fields] = _box_sums(fb).reshape(k, -1)
        self.base_cell[fields] = base_cell
        self.cell[fields] = base_cell[:, None]
        self.battery[fields] = cfg.battery_capacity
        self.tank[fields] = cfg.tank_capacity if self.scenario.watering else 0
        self.active[fields] = True
        self.finished[fields] = False
        self.on_trip[fields] = False
        self.trip_delivered[fields] = 0
        for arr in self.counters.values():
            arr[fields] = 0
        self.ret[fields] = 0.0
        cnt = self.counters
        cnt["steps_to_95"][fields] = -1
        free = (~lay.obstacles).reshape(k, -1).sum(axis=1)
        cnt["free"][fields] = free
        cnt["goal_cells"][fields] = np.ceil(cfg.coverage_target * free - 1e-9).astype(np.int64)
        cnt["plants_total"][fields] = lay.plants.reshape(k, -1).sum(axis=1)
        cnt["need_total"][fields] = lay.needs.reshape(k, -1).sum(axis=1, dtype=np.int64)
        if self.scenario.watering:
            cnt["drawn"][fields] = self.N * cfg.tank_capacity
        self.packed[(self.field_off[fields] + base_cell)] |= BIT_DRONE
        # Coarse summary totals: free cells (recon) or water need (watering) per block.
        blocks = self.block_of.reshape(self.Hp, self.Wp)[view[1:]]
        weight = (
            lay.needs.astype(np.float64) if self.scenario.watering else (~lay.obstacles).astype(np.float64)
        )
        nb = COARSE * COARSE + 1
        keys = (np.arange(k)[:, None, None] * nb + blocks[None]).ravel()
        tot = np.bincount(keys, weights=weight.ravel(), minlength=k * nb).reshape(k, nb)
        self.coarse_rem[fields] = tot
        self.coarse_tot[fields] = np.maximum(tot, 1.0)
        # The swarm senses its surroundings at take-off (no reward for it).
        gcell = self.field_off[fields][:, None] + self.cell[fields]
        self._sense(gcell, np.ones((k, self.N), dtype=bool), fields)
        cnt["lower_bound"][fields] = coverage_lower_bound(
            sensing_release(lay.dist, cfg.sensor_radius), ~lay.obstacles, cnt["covered"][fields],
            cnt["goal_cells"][fields], self.N * cells_per_move(cfg),
        )
        if self.planned:
            self._way_goal[fields] = -1  # new obstacles: the drones' maps are stale
            for f in fields.tolist():
                part = slice(f * self.C, (f + 1) * self.C)
                self.book.plan(f, self.need[part], self.dist[part], int(self.base_cell[f]), self.Wp,
                               cfg.tank_capacity, cfg.battery_capacity)
            self._advance_plan()

    @property
    def planned(self) -> bool:
        """Whether this scenario's drones fly a plan (PLANNED_WORK, layout v8)."""
        return self.scenario.name in self.PLANNED_WORK

    def low_battery(self, margin: int = 2) -> np.ndarray:
        """(B, N) bool: drones whose battery barely covers the way home (within ``margin`` steps), or
        that are recharging at the base."""
        d = self.dist[self.cell + self.field_off[:, None]]
        charging = (d == 0) & (self.battery < self.config.battery_capacity)
        return (self.battery <= d + margin) | charging

    def _advance_plan(self) -> None:
        """Bring the drones' sorties up to date (env.sorties.SortieBook.advance): a drone takes one at
        the base with a full tank and battery, and gives it back when its battery sends it home."""
        low = self.low_battery()
        at_base = self.cell == self.base_cell[:, None]
        ready = at_base & ~low & self.active & (self.tank == self.config.tank_capacity)
        self.book.advance(self.need.reshape(self.B, self.C), at_base, ready, low)

    # ------------------------------------------------------------------ rules
    def _sense(
        self, gcell: np.ndarray, sensing: np.ndarray, fields: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mark cells in sensor range as covered; credit each new cell/plant to the lowest-index drone.

        ``gcell`` (k, N) global cells, ``sensing`` (k, N) which drones sense, ``fields`` (k,) field ids.
        Returns per-drone (k, N) counts of newly covered cells and newly discovered plants.
        """
        k, n = gcell.shape
        rows = np.flatnonzero(sensing.ravel())
        win = gcell.ravel()[rows][:, None] + self.sense_off[None, :]
        code = self.packed[win]
        cand = (code & (BIT_BLOCKED | BIT_COVERED)) == 0
        if self.los is not None:
            # A cell is hidden when an obstacle lies strictly between it and the drone.
            cand &= ((code & BIT_BLOCKED).astype(np.float32) @ self.los) == 0
        owner = np.broadcast_to(rows[:, None], win.shape)[cand]
        cidx = win[cand]
        new_cells = np.zeros(k * n, dtype=np.int64)
        new_plants = np.zeros(k * n, dtype=np.int64)
        if cidx.size:
            np.minimum.at(self.scratch, cidx, owner.astype(np.int32))
            won = self.scratch[cidx] == owner
            self.scratch[cidx] = _BIG
            widx, wown = cidx[won], owner[won]
            self.packed[widx] |= BIT_COVERED
            new_cells = np.bincount(wown, minlength=k * n)
            frow = wown // n
            self.counters["covered"][fields] += np.bincount(frow, minlength=k)
            if not self.scenario.watering:
                found = self.hidden[widx]
                self.hidden[widx[found]] = False
                self.packed[widx[found]] |= BIT_PLANT
                new_plants = np.bincount(wown[found], minlength=k * n)
                self.counters["plants_found"][fields] += np.bincount(frow[found], minlength=k)
                local = widx - self.field_off[fields][frow]
                nb = COARSE * COARSE + 1
                dec = np.bincount(frow * nb + self.block_of[local], minlength=k * nb).reshape(k, nb)
                self.coarse_rem[fields] -= dec
        return new_cells.reshape(k, n), new_plants.reshape(k, n)

    def _collisions(self, gcell: np.ndarray, flying: np.ndarray, at_base: np.ndarray) -> np.ndarray:
        """(B, N) bool: drone shares its (non-base) cell with another flying drone."""
        rows = np.flatnonzero(flying.ravel())
        cells = gcell.ravel()[rows]
        ids = rows.astype(np.int32)
        self.scratch[cells] = ids
        lost = self.scratch[cells] != ids  # someone else also wrote this cell
        self.scratch[cells[lost]] = -1
        hit = self.scratch[cells] == -1
        self.scratch[cells] = _BIG
        out = np.zeros(self.B * self.N, dtype=bool)
        out[rows] = hit
        return out.reshape(self.B, self.N) & ~at_base

    def _water(self, gcell: np.ndarray, release: np.ndarray, rew: np.ndarray) -> None:
        """Water releases: ranked by drone index per cell, the first `need` units are delivered."""
        r, cnt = self.scenario.rewards, self.counters
        rows = np.flatnonzero(release.ravel())
        tank, rflat = self.tank.ravel(), rew.ravel()
        has = tank[rows] > 0
        rflat[rows[~has]] += r.empty_release
        rows = rows[has]
        if not rows.size:
            return
        cells = gcell.ravel()[rows]
        order = np.argsort(cells, kind="stable")
        rows, cells = rows[order], cells[order]
        start = np.r_[True, cells[1:] != cells[:-1]]
        pos = np.arange(len(cells))
        rank = pos - np.maximum.accumulate(np.where(start, pos, 0))
        ok = rank < self.need[cells]
        tank[rows] -= 1
        drows, dcells = rows[ok], cells[ok]
        fields_d, fields_w = drows // self.N, rows[~ok] // self.N
        np.subtract.at(self.need, dcells, 1)
        self.packed[dcells] = (self.packed[dcells] & 0x1F) | (
            self.need[dcells].astype(np.uint8) << NEED_SHIFT
        )
        self.trip_delivered.ravel()[drows] += 1
        rflat[drows] += r.delivered
        wrows, wcells = rows[~ok], cells[~ok]
        on_plant = (self.packed[wcells] & BIT_PLANT) > 0
        rflat[wrows] += np.where(on_plant, r.over_watering, r.spilled)
        cnt["delivered"] += np.bincount(fields_d, minlength=self.B)
        cnt["wasted"] += np.bincount(fields_w, minlength=self.B)
        sat = np.unique(dcells[self.need[dcells] == 0])
        cnt["plants_watered"] += np.bincount(sat // self.C, minlength=self.B)
        nb = COARSE * COARSE + 1
        local = dcells - self.field_off[fields_d]
        self.coarse_rem -= np.bincount(fields_d * nb + self.block_of[local], minlength=self.B * nb).reshape(
            self.B, nb
        )

    # ------------------------------------------------------------------ step
    def step(self, actions: np.ndarray) -> StepResult:
        """Advance every field by one step; finished fields are reset when ``auto_reset``."""
        a = np.asarray(actions).reshape(self.B, self.N).astype(np.int64)
        if a.min() < 0 or a.max() >= self.scenario.n_actions:
            raise ValueError(f"action out of range; allowed: 0..{self.scenario.n_actions - 1}")
        cfg, rw, cnt = self.config, self.scenario.rewards, self.counters
        live = ~self.finished  # without auto-reset, finished fields stay frozen
        act = self.active & live[:, None]
        off = self.field_off[:, None]
        gcell = self.cell + off
        if self.scenario.watering:
            phi_before = act & (self.need[gcell] > 0) & (self.tank > 0)
        move = np.where(act, self.move_delta[a], 0)
        target = gcell + move
        blocked = (self.packed[target] & BIT_BLOCKED) != 0
        newg = np.where(blocked, gcell, target)
        bump = blocked & (move != 0)
        self.packed[gcell.ravel()] &= np.uint8(~BIT_DRONE & 0xFF)
        self.packed[newg.ravel()] |= BIT_DRONE
        self.cell = newg - off
        base = self.base_cell[:, None]
        at_base = self.cell == base
        was_base = gcell - off == base
        # Battery: one unit per step away from the base, recharge at the base.
        drain = act & ~at_base
        self.battery -= drain
        self.battery = np.where(
            act & at_base, np.minimum(self.battery + cfg.recharge_rate, cfg.battery_capacity), self.battery
        )
        depleted = drain & (self.battery <= 0)
        self.active &= ~depleted
        coll = self._collisions(newg, act, at_base)
        new_cells, new_plants = self._sense(newg, act, np.arange(self.B))
        rew = (
            rw.step * act
            + rw.bump * bump
            + rw.collision * coll
            + rw.depletion * depleted
            + (rw.explore if self.scenario.watering else rw.new_cell) * new_cells
            + rw.new_plant * new_plants
        )
        if self.scenario.watering:
            if self.planned:  # a release at a sortie's stop counts against the water planned there
                at_stop = act & (a == WATER) & (self.tank > 0) & (self.cell == self.book.stop)
                self.book.released(*np.nonzero(at_stop))
            self._water(newg, act & (a == WATER), rew)
            # Trips: a sortie starts when a drone leaves the base with water, ends back at the base.
            left = act & was_base & ~at_base
            self.on_trip = np.where(left, self.tank > 0, self.on_trip)
            self.trip_delivered = np.where(left, 0, self.trip_delivered)
            arrived = act & ~was_base & at_base
            wasted_trip = arrived & self.on_trip & (self.trip_delivered == 0)
            self.on_trip &= ~arrived
            rew += rw.wasted_trip * wasted_trip
            cnt["wasted_trips"] += wasted_trip.sum(axis=1)
            refill = act & at_base
            cnt["drawn"] += np.where(refill, cfg.tank_capacity - self.tank, 0).sum(axis=1)
            self.tank = np.where(refill, cfg.tank_capacity, self.tank)
            phi_after = act & (self.need[newg] > 0) & (self.tank > 0)
            rew += rw.at_needy_plant * (phi_after.astype(np.float64) - phi_before)
            if self.planned:
                self._advance_plan()
        cnt["step"] += live
        cnt["energy"] += drain.sum(axis=1)
        cnt["collisions"] += coll.sum(axis=1)
        cnt["depletions"] += depleted.sum(axis=1)
        cnt["bumps"] += bump.sum(axis=1)
        # where the time goes until the coverage target (this step counts): drone-steps, and those
        # that newly sensed nothing (flying over sensed cells, hovering, waiting at the base)
        before95 = (act & (cnt["steps_to_95"] < 0)[:, None])
        cnt["drone_steps_to_95"] += before95.sum(axis=1)
        cnt["idle_steps_to_95"] += (before95 & (new_cells == 0)).sum(axis=1)
        if self.scenario.watering:
            complete = cnt["delivered"] >= cnt["need_total"]
        else:
            complete = cnt["covered"] >= cnt["goal_cells"]
        reached95 = (cnt["covered"] * 100 >= 95 * cnt["free"]) & (cnt["steps_to_95"] < 0)
        cnt["steps_to_95"][reached95] = cnt["step"][reached95]
        rew += rw.completion * (complete[:, None] & self.active & live[:, None])
        terminated = (complete | ~self.active.any(axis=1)) & live
        truncated = (cnt["step"] >= cfg.max_steps) & ~terminated & live
        rew = rew.astype(np.float32)
        self.ret += rew.sum(axis=1)
        done = np.flatnonzero(terminated | truncated)
        terminal_obs, metrics, observed = None, [], done[:0]
        if done.size:
            metrics = self.metrics(done)
            if self.auto_reset:
                # Final observations first, then one pass over every field after the resets (the
                # per-call cost dominates at training sizes: one pass instead of two on most steps).
                observed = done if self.observe_terminated else np.flatnonzero(truncated)
                terminal_obs = self.observe(observed) if observed.size else None
                self._reset_fields(done)
            else:
                self.finished[done] = True
        obs = self.observe(np.arange(self.B))
        return StepResult(obs, rew.ravel(), terminated, truncated, done, terminal_obs, metrics, observed)

    # ------------------------------------------------------------------ observation
    def observe(self, fields: np.ndarray) -> np.ndarray:
        """Observation rows of ``fields`` (k*N, OBS_DIM) float32: window, own state, global summary."""
        cfg, k, n = self.config, len(fields), self.N
        rows = k * n
        obs = np.empty((rows, OBS_DIM), dtype=np.float32)
        cell = self.cell[fields]
        g = (cell + self.field_off[fields][:, None]).ravel()
        # 7 x 7 window: gather 7 rows of 7 bytes each (one cell code per byte), then unpack the
        # bits into channel planes; the float conversion happens in the one write into ``obs``.
        rows7 = sliding_window_view(self.packed, WINDOW)
        code = rows7[g[:, None] + self.row_off[None, :]].reshape(rows, 1, WINDOW * WINDOW)
        nwin = WINDOW * WINDOW * N_CHANNELS
        win = obs[:, :nwin].reshape(rows, N_CHANNELS, WINDOW * WINDOW)
        planes = np.empty((rows, N_CHANNELS, WINDOW * WINDOW), dtype=np.uint8)
        code = code[:, 0]
        for ch in range(4):  # one contiguous shift per binary channel (faster than a broadcast)
            np.right_shift(code, ch, out=planes[:, ch])
        np.bitwise_and(planes[:, :4], 1, out=planes[:, :4])
        np.right_shift(code, NEED_SHIFT, out=planes[:, 4])
        win[...] = planes
        win[:, 4] *= np.float32(1.0 / 7.0)
        # Own state and global summary are built feature-major, then written in one pass.
        feat = np.empty((OWN_FEATURES + GLOBAL_FEATURES, rows), dtype=np.float32)
        c = cell.ravel()
        feat[0] = self.cell_y[c] / max(self.H - 1, 1)
        feat[1] = self.cell_x[c] / max(self.W - 1, 1)
        feat[2] = self.battery[fields].ravel() / cfg.battery_capacity
        feat[3] = self.tank[fields].ravel() / cfg.tank_capacity
        here = self.dist[g]
        np.minimum(here / cfg.battery_capacity, 1.0, out=feat[4])
        # Direction home: the neighbour with the smallest BFS distance to the base (none at the base).
        nd = self.dist[g[None, :] + self.move_delta[1:5, None]]
        best = np.argmin(nd, axis=0)
        away = here != 0
        for d in range(4):
            feat[5 + d] = (best == d) & away
        feat[9] = ~away
        feat[10] = self.active[fields].ravel()
        if self.planned:  # v8: the water this drone's sortie plans for this very cell
            mine = (self.book.stop[fields].ravel() == c) & (self.tank[fields].ravel() > 0)
            feat[11] = np.where(mine, np.minimum(self.book.amount[fields].ravel(), self.need[g]), 0) / 7.0
        else:
            feat[11] = self.need[g] / 7.0  # water still needed on this very cell (watering)
        o, cnt = OWN_FEATURES, self.counters
        glob = np.empty((GLOBAL_FEATURES, k), dtype=np.float32)
        glob[0] = cnt["step"][fields] / cfg.max_steps
        glob[1] = cnt["covered"][fields] / np.maximum(cnt["free"][fields], 1)
        if self.scenario.watering:
            glob[2] = cnt["delivered"][fields] / np.maximum(cnt["need_total"][fields], 1)
        else:
            glob[2] = cnt["plants_found"][fields] / np.maximum(cnt["plants_total"][fields], 1)
        glob[3] = self.active[fields].mean(axis=1)
        nb = COARSE * COARSE
        glob[4:] = (self.coarse_rem[fields, :nb] / self.coarse_tot[fields, :nb]).T
        feat[o:].reshape(GLOBAL_FEATURES, k, n)[...] = glob[:, :, None]
        end = nwin + OWN_FEATURES + GLOBAL_FEATURES
        obs[:, nwin:end] = feat.T
        work = self._work(fields)
        obs[:, end:end + FAR_FEATURES] = self._far_field(fields, cell, work)
        ids = np.arange(n, dtype=np.float64)
        obs[:, end + FAR_FEATURES] = np.tile(ids / max(n - 1, 1), k)
        obs[:, end + FAR_FEATURES + 1] = np.tile((ids * GOLDEN) % 1.0, k)
        home = self._homebound(fields, here)
        compass = self._compass(fields, cell, work, home.reshape(k, n))
        # Watering: the compass of a drone with an empty tank (away from the base) shows the way home.
        # Water comes only from the base, so that is the drone's next goal; with the compass pointing
        # at the nearest plant instead, the policy had to learn to switch directions by tank level, and
        # the smoke policy spent a fifth of its steps wandering with an empty tank (docs/policy.md).
        compass[home, :4] = (nd[:, home] < here[home]).T
        compass[home, 4] = np.minimum(here[home] / (self.H + self.W), 1.0)
        obs[:, end + FAR_FEATURES + ID_FEATURES:] = compass
        return obs

    def _homebound(self, fields: np.ndarray, here: np.ndarray) -> np.ndarray:
        """(k*N,) bool: the drones whose compass leads home (watering: empty tank, away from the base;
        ``here``: each drone's BFS distance home). bench/ablation.py's ``no_home_compass`` patches it."""
        if not self.scenario.watering:
            return np.zeros(len(here), dtype=bool)
        home = self.tank[fields].ravel() == 0
        if self.planned:  # v8: a drone without a sortie has nothing to do but fly home
            home |= self.book.stop[fields].ravel() < 0
        return home & (here != 0)

    def _work(self, fields: np.ndarray) -> np.ndarray:
        """(k, C) bool over the padded fields: cells with work left (recon: free and not covered;
        watering: a plant still needing water). The padding never has work."""
        if self.scenario.watering:
            return self.need.reshape(self.B, self.C)[fields] > 0
        return (self.packed.reshape(self.B, self.C)[fields] & (BIT_BLOCKED | BIT_COVERED)) == 0

    OWN_REGIONS: tuple[str, ...] = ("recon", "watering")
    """Scenarios whose compass leads to the drone's own region first (observation layout v5;
    bench/ablation.py's ``no_regions`` variant switches it off)."""

    SECTOR_REGIONS: tuple[str, ...] = ("recon",)
    """Of OWN_REGIONS, the scenarios whose regions are the drones' sectors around the base (layout v7;
    bench/ablation.py's ``nearest_regions`` variant switches back to v6's cells nearest a drone). Not
    watering: its drones go home to refill, and its work (needy plants) is sparse, so most sectors
    would hold none."""

    CLAIMED_WORK: tuple[str, ...] = ("watering",)
    """Scenarios whose drones without work in their own region skip the work a region's compass
    already leads to (layout v6). Not recon: a v5 recon model scored with it was 0-3 % slower (a
    plant's water is claimed, a frontier cell is covered by any drone passing; docs/policy.md)."""

    PLANNED_WORK: tuple[str, ...] = ("watering",)
    """Scenarios whose drones fly the field's plan (layout v8, env.sorties): a drone takes a sortie at
    the base, its compass leads to the sortie's next plant and it may release only the water planned
    there (own feature 11); a drone without a sortie flies home. Regions and claims then play no part.
    bench/ablation.py's ``no_plan`` variant switches back to layout v7's compass. Until v7 the
    watering compass led to the nearest plant of the drone's region, as greedy goes, and the learned
    swarm kept greedy's pace, 1.17x the sweep routes' time on held-out fields with obstacles."""

    OWN_WAVES_SHARE = 0.5
    """Drones without work in their region look for the nearest work by waves of their own until those
    have touched this share of a field's cells; then one wave from all the work serves the rest
    (env.waves.compass_waves; the same answer either way, only the cost moves)."""

    def _compass(self, fields: np.ndarray, cell: np.ndarray, work: np.ndarray,
                 elsewhere: np.ndarray) -> np.ndarray:
        """(k*N, COMPASS_FEATURES): the way to the nearest cell with work left, around obstacles.

        Distances are geodesic (breadth-first waves through free cells, env.waves). A drone's
        features say which of its four moves lead one step closer along a shortest path (a move into
        an obstacle never does), then its distance / (height + width), capped at 1. A drone that no
        wave reaches (nothing left, or only unreachable work) gets zeros. A straight-line compass
        pointed drones into walls next to the work behind them, where they stayed.

        v5: a drone first looks for work in its own region, the cells nearer to it than to any other
        drone (watering: any other drone carrying water), and only when there is none for the
        nearest work anywhere: drones that left the base together otherwise all chased the same
        plant (and all but the first turned back) or swept the same frontier. v6: regions reach
        REGION_REACH = 48 steps, and (watering: CLAIMED_WORK) a drone without work in its own region
        is led to the nearest work that no region's compass leads to (the owners' nearest work is
        claimed), and only when there is none to the nearest work anywhere. v7 (SECTOR_REGIONS): a
        drone's region is its sector around the base (``self.sector``), and the way to its work may
        cross other sectors. ``elsewhere``: (k, N) bool, drones whose compass the caller replaces
        (homebound): no wave looks for work for them."""
        k, n, name = len(fields), self.N, self.scenario.name
        if self.planned:
            return self._plan_compass(fields, cell, elsewhere)
        carriers = np.zeros((k, n), dtype=bool)
        if name in self.OWN_REGIONS:
            carriers = self.active[fields]
            if self.scenario.watering:
                carriers = carriers & (self.tank[fields] > 0)
        by_sector = name in self.SECTOR_REGIONS and name in self.OWN_REGIONS
        dist, moves = self._compass_waves(fields, cell, work, elsewhere, carriers, by_sector)
        return self._compass_features(dist, moves)

    def _plan_compass(self, fields: np.ndarray, cell: np.ndarray, elsewhere: np.ndarray) -> np.ndarray:
        """Layout v8 (PLANNED_WORK): :meth:`_compass`, but to the next plant of each drone's sortie
        (SortieBook.stop) by a shortest way; zeros for a drone without a sortie or water."""
        stop = self.book.stop[fields]
        target = np.where((stop >= 0) & (self.tank[fields] > 0) & self.active[fields] & ~elsewhere, stop, -1)
        dist = np.empty(target.shape, dtype=np.int64)
        moves = np.empty(target.shape, dtype=np.uint8)
        if self._ways is None:  # each drone's distance map from its stop (env.waves.target_ways)
            self._ways = np.empty((self.B, self.N, self.C), dtype=np.int32)
        target_ways(self.packed.reshape(self.B, self.C), BIT_BLOCKED, fields, np.ascontiguousarray(cell),
                    target, self.Wp, UNREACHABLE, self._ways, self._way_goal, dist, moves)
        return self._compass_features(dist, moves)

    def _compass_features(self, dist: np.ndarray, moves: np.ndarray) -> np.ndarray:
        """(k*N, COMPASS_FEATURES) from the waves' (k, N) distances and move bits."""
        out = np.zeros((dist.size, COMPASS_FEATURES), dtype=np.float32)
        for j in range(4):
            out[:, j] = (moves.ravel() >> j) & 1
        here = dist.ravel()
        out[:, 4] = np.where(here < UNREACHABLE, np.minimum(here / (self.H + self.W), 1.0), 0.0)
        return out

    def compass_moves(self, fields: np.ndarray) -> np.ndarray:
        """(k, N) uint8 of recon ``fields``' drones: bit j set when move j (up, down, left, right) is a
        step along a shortest way to the work of the drone's sector, or when that is done to the
        nearest work: the compass of layout v7 (whatever the SECTOR_REGIONS switch says), which the
        sector sweep heuristic follows (env.sectors)."""
        fields = np.asarray(fields, dtype=np.int64)
        none = np.zeros((len(fields), self.N), dtype=bool)
        return self._compass_waves(fields, self.cell[fields], self._work(fields), none,
                                   self.active[fields], by_sector=True)[1]

    def move_gains(self, fields: np.ndarray, hemmed: bool = False) -> np.ndarray:
        """(k, N, 4) int: for each drone of recon ``fields`` and each move j (up, down, left, right), the
        free cells not sensed yet within sensor range (a square, line of sight ignored) of the cell
        that move leads to: what the move would newly sense; 0 for a move into an obstacle or off the
        field. The sector sweep breaks ties between the compass's moves with it.

        ``hemmed``: each such cell counts 1 + the number of its eight neighbours with nothing to sense
        (sensed, blocked or off the field): cells hemmed in are sensed first, before they become the
        scattered leftovers the last 5 % of a field waits on (docs/policy.md, "Hemmed cells first")."""
        fields = np.asarray(fields, dtype=np.int64)
        k = len(fields)
        work = self._work(fields)  # (k, C): free and not sensed yet
        blocked = (self.packed.reshape(self.B, self.C)[fields] & BIT_BLOCKED) > 0  # the padding too
        weight = work.astype(np.int64)
        if hemmed:
            # an in-field cell's neighbours lie inside the padded array, so the wrap of the flat
            # shift only touches padding cells, which have no work (weight 0)
            done = (~work).astype(np.int64)
            for step in (1, self.Wp - 1, self.Wp, self.Wp + 1):
                weight += work * (np.roll(done, step, axis=1) + np.roll(done, -step, axis=1))
        gains = np.zeros((k, self.N, 4), dtype=np.int64)
        for j in range(4):
            target = self.cell[fields] + self.move_delta[1 + j]  # (k, N), inside the padded field
            # a sensor square around a padding cell may leave the array: clipped, and zeroed below
            around = np.clip(target[..., None] + self.sense_off, 0, self.C - 1).reshape(k, -1)
            sensed = np.take_along_axis(weight, around, axis=1).reshape(k, self.N, -1).sum(axis=2)
            gains[..., j] = np.where(np.take_along_axis(blocked, target, axis=1), 0, sensed)
        return gains

    def _compass_waves(self, fields: np.ndarray, cell: np.ndarray, work: np.ndarray, elsewhere: np.ndarray,
                       carriers: np.ndarray, by_sector: bool) -> tuple[np.ndarray, np.ndarray]:
        """(k, N) distances (UNREACHABLE: none) and move bits of :meth:`_compass`; ``carriers``: the
        drones that have a region (``by_sector``: their sector; else the cells nearest to them)."""
        k, n = len(fields), self.N
        free = (self.packed.reshape(self.B, self.C)[fields] & BIT_BLOCKED) == 0
        dist = np.empty((k, n), dtype=np.int64)
        moves = np.empty((k, n), dtype=np.uint8)
        sector = self.sector.reshape(self.B, self.C)[fields] if by_sector else np.empty((k, 0), np.int32)
        compass_waves(work & free, free, np.ascontiguousarray(cell), np.ascontiguousarray(carriers),
                      np.ascontiguousarray(elsewhere), self.Wp, REGION_REACH, UNREACHABLE,
                      int(self.C * self.OWN_WAVES_SHARE), self.scenario.name in self.CLAIMED_WORK,
                      np.ascontiguousarray(sector), dist, moves)
        return dist, moves

    def _far_field(self, fields: np.ndarray, cell: np.ndarray, work: np.ndarray) -> np.ndarray:
        """(k*N, FAR_FEATURES): work-left and blocked fractions of the blocks around each drone.

        Each block sum is one gather from a map of FAR_BLOCK x FAR_BLOCK box sums (uint8: at most
        25), built with shifted adds over the field padded by FAR_REACH cells (no work there); the
        blocked map does not change within an episode, so it is built at reset."""
        k, n, p, h, w = len(fields), self.N, self.P, self.H, self.W
        padded = np.zeros((k, h + 2 * FAR_REACH, w + 2 * FAR_REACH), dtype=np.uint8)
        inner = work.reshape(k, self.Hp, self.Wp)[:, p:p + h, p:p + w]
        padded[:, FAR_REACH:FAR_REACH + h, FAR_REACH:FAR_REACH + w] = inner
        box = _box_sums(padded).reshape(k, -1)
        # Block (i, j) of a drone at (y, x) starts at (y + FAR_BLOCK * i, x + FAR_BLOCK * j) in the
        # box maps, whose origin is FAR_REACH cells above and left of the field.
        bw = w + 2 * FAR_REACH - FAR_BLOCK + 1
        y, x = cell // self.Wp - p, cell % self.Wp - p
        idx = ((y[..., None] + _FAR_STEPS) * bw)[..., :, None] + (x[..., None] + _FAR_STEPS)[..., None, :]
        idx = idx.reshape(k, -1)
        g2 = FAR_GRID * FAR_GRID
        out = np.empty((k * n, FAR_FEATURES), dtype=np.float32)
        area = float(FAR_BLOCK * FAR_BLOCK)
        out[:, :g2] = np.take_along_axis(box, idx, 1).reshape(k * n, g2) / area
        out[:, g2:] = np.take_along_axis(self.far_blocked[fields], idx, 1).reshape(k * n, g2) / area
        return out

    # ------------------------------------------------------------------ metrics and views
    def coverage(self) -> np.ndarray:
        """(B,) covered fraction of free cells."""
        return self.counters["covered"] / np.maximum(self.counters["free"], 1)

    def metrics(self, fields: np.ndarray) -> list[dict[str, Any]]:
        """Task metrics of ``fields`` as plain dicts (see docs/architecture.md for the keys)."""
        cnt, out = self.counters, []
        in_tanks = self.tank.sum(axis=1)
        for f in np.asarray(fields).tolist():
            s95 = int(cnt["steps_to_95"][f])
            out.append(
                {
                    "coverage": float(cnt["covered"][f] / max(cnt["free"][f], 1)),
                    "steps": int(cnt["step"][f]),
                    "steps_to_95": s95 if s95 >= 0 else None,
                    "plants_found": int(cnt["plants_found"][f]),
                    "plants_total": int(cnt["plants_total"][f]),
                    "plants_watered": int(cnt["plants_watered"][f]),
                    "water_need": int(cnt["need_total"][f]),
                    "water_delivered": int(cnt["delivered"][f]),
                    "water_wasted": int(cnt["wasted"][f]),
                    "water_drawn": int(cnt["drawn"][f]),
                    "water_in_tanks": int(in_tanks[f]),
                    "wasted_trips": int(cnt["wasted_trips"][f]),
                    "collisions": int(cnt["collisions"][f]),
                    "battery_depletions": int(cnt["depletions"][f]),
                    "bumps": int(cnt["bumps"][f]),
                    "energy": int(cnt["energy"][f]),
                    "episode_return": float(self.ret[f]),
                    "lower_bound_steps": int(cnt["lower_bound"][f]),
                    "free_cells": int(cnt["free"][f]),
                    "drone_steps_to_95": int(cnt["drone_steps_to_95"][f]),
                    "idle_steps_to_95": int(cnt["idle_steps_to_95"][f]),
                }
            )
        return out

    def field_view(self, f: int) -> dict[str, Any]:
        """Unpadded 2-D maps and drone states of field ``f`` (for rendering and heuristics)."""
        p, h, w = self.P, self.H, self.W
        pk = self.packed.reshape(self.B, self.Hp, self.Wp)[f, p:p + h, p:p + w]
        need = self.need.reshape(self.B, self.Hp, self.Wp)[f, p:p + h, p:p + w]
        hidden = self.hidden.reshape(self.B, self.Hp, self.Wp)[f, p:p + h, p:p + w]
        cell = self.cell[f]
        return {
            "obstacles": (pk & BIT_BLOCKED) > 0,
            "covered": (pk & BIT_COVERED) > 0,
            "plants_known": (pk & BIT_PLANT) > 0,
            "plants_hidden": hidden.copy(),
            "need": need.astype(np.int64),
            "base": (int(self.base_cell[f] // self.Wp) - p, int(self.base_cell[f] % self.Wp) - p),
            "drones_y": (cell // self.Wp - p).astype(np.int64),
            "drones_x": (cell % self.Wp - p).astype(np.int64),
            "battery": self.battery[f].copy(),
            "tank": self.tank[f].copy(),
            "active": self.active[f].copy(),
            "step": int(self.counters["step"][f]),
            "coverage": float(self.coverage()[f]),
        }

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """(B, N) row and column of every drone."""
        return self.cell // self.Wp - self.P, self.cell % self.Wp - self.P

    def lower_bound_steps(self) -> np.ndarray:
        """(B,) fewest steps any swarm needs to the coverage goal (env.bounds: each move senses at most
        drones x cells_per_move new cells, and no cell before a drone can reach its sensor range)."""
        return self.counters["lower_bound"].copy()


def _box_sums(padded: np.ndarray) -> np.ndarray:
    """(k, H', W') uint8 -> sums of every FAR_BLOCK x FAR_BLOCK box, indexed by its top-left cell."""
    hh, ww = padded.shape[1] - FAR_BLOCK + 1, padded.shape[2] - FAR_BLOCK + 1
    rows = padded[:, :hh].copy()
    for i in range(1, FAR_BLOCK):
        rows += padded[:, i:i + hh]
    box = rows[:, :, :ww].copy()
    for j in range(1, FAR_BLOCK):
        box += rows[:, :, j:j + ww]
    return box


def cells_per_move(config: FieldConfig) -> int:
    """Most cells a drone can newly sense in one move: one side of its sensor square on open ground; the
    whole square when obstacles block the sensor (a move can also uncover cells an obstacle hid)."""
    side = 2 * config.sensor_radius + 1
    return side * side if config.obstacles_block_sensor and config.sensor_radius > 1 else side
