"""Field layouts: base, plants and their water needs, obstacles; generation and scenario files.

Generation is batched (one array program for many fields) and counter-based (see env.rng), so
field ``i`` of seed ``s`` gets the same layout in every batch size. Every free cell is reachable
from the base: cells in enclosed pockets become obstacles, and a layout read from a file with an
unreachable free cell or plant is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from env import rng as crng
from env.config import MAX_WATER_NEED, ConfigError, FieldConfig

UNREACHABLE = np.iinfo(np.int32).max // 4

# Random streams of the layout generator (never reuse a number for another purpose).
_S_BASE, _S_SINGLE, _S_BLOCK, _S_PLANT, _S_NEED = 1, 2, 3, 4, 5


@dataclass
class Layout:
    """One concrete field. Coordinates are (row y, column x); ``plants`` is an int array (P, 2)."""

    width: int
    height: int
    base: tuple[int, int]
    plants: np.ndarray
    needs: np.ndarray
    obstacles: np.ndarray

    @property
    def n_plants(self) -> int:
        """Number of plants."""
        return int(len(self.plants))

    @property
    def free_cells(self) -> int:
        """Cells that are not obstacles."""
        return int(self.width * self.height - self.obstacles.sum())

    def to_dict(self) -> dict[str, Any]:
        """JSON/YAML-friendly dict (obstacles as a list of [y, x])."""
        return {
            "width": self.width,
            "height": self.height,
            "base": [int(self.base[0]), int(self.base[1])],
            "plants": [[int(y), int(x)] for y, x in self.plants],
            "needs": [int(n) for n in self.needs],
            "obstacles": [[int(y), int(x)] for y, x in np.argwhere(self.obstacles)],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], config: FieldConfig | None = None) -> "Layout":
        """Parse and validate a layout dict; any problem raises ConfigError naming the key."""
        for key in ("width", "height", "base", "plants", "needs"):
            if key not in data:
                raise ConfigError(
                    f"layout key {key!r} is missing; required: width, height, base, plants, needs"
                )
        unknown = set(data) - {"width", "height", "base", "plants", "needs", "obstacles"}
        if unknown:
            raise ConfigError(
                f"unknown layout key {sorted(unknown)[0]!r}; allowed: width, height, base, plants, "
                "needs, obstacles"
            )
        width, height = data["width"], data["height"]
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, int) or not 4 <= value <= 512:
                raise ConfigError(f"layout {name}={value!r} is out of range; allowed: 4..512")
        obstacles = np.zeros((height, width), dtype=bool)
        for cell in data.get("obstacles") or []:
            y, x = _cell("obstacles", cell, width, height)
            obstacles[y, x] = True
        plants = np.array([_cell("plants", c, width, height) for c in data["plants"]], dtype=np.int64)
        plants = plants.reshape(-1, 2)
        if not isinstance(data["needs"], (list, tuple)):
            raise ConfigError(
                f"layout needs={data['needs']!r} is invalid; allowed: a list of integers "
                f"1..{MAX_WATER_NEED}"
            )
        _check_needs(data["needs"])
        needs = np.array(data["needs"], dtype=np.int64).reshape(-1)
        layout = cls(width, height, _cell("base", data["base"], width, height), plants, needs, obstacles)
        layout.validate(config)
        return layout

    def validate(self, config: FieldConfig | None = None) -> None:
        """Refuse inconsistent layouts: overlaps, bad needs, unreachable cells, config mismatch."""
        if len(self.needs) != len(self.plants):
            raise ConfigError(
                f"layout needs has {len(self.needs)} entries for {len(self.plants)} plants; "
                "allowed: one need per plant"
            )
        _check_needs(list(self.needs))
        by, bx = self.base
        if self.obstacles[by, bx]:
            raise ConfigError(f"layout base={[by, bx]} is on an obstacle; allowed: a free cell")
        seen: set[tuple[int, int]] = set()
        for y, x in self.plants:
            key = (int(y), int(x))
            if self.obstacles[y, x] or key == (by, bx) or key in seen:
                raise ConfigError(
                    f"layout plant {[key[0], key[1]]} is on an obstacle, the base or another "
                    "plant; allowed: distinct free cells"
                )
            seen.add(key)
        dist = bfs_distance(~self.obstacles[None], np.array([by]), np.array([bx]))[0]
        unreachable = np.argwhere(~self.obstacles & (dist >= UNREACHABLE))
        if len(unreachable):
            y, x = unreachable[0]
            raise ConfigError(
                f"layout cell {[int(y), int(x)]} is free but not reachable from the base "
                f"({len(unreachable)} such cells); allowed: every free cell reachable"
            )
        if config is not None:
            if (config.width, config.height) != (self.width, self.height):
                raise ConfigError(
                    f"layout size {self.width}x{self.height} does not match the config "
                    f"{config.width}x{config.height}; allowed: equal sizes"
                )
            if config.n_drones > self.free_cells:
                raise ConfigError(
                    f"n_drones={config.n_drones} exceeds the {self.free_cells} free cells of "
                    "the layout; allowed: at most the free cells"
                )


def _check_needs(needs: list[Any]) -> None:
    for n in needs:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_WATER_NEED:
            raise ConfigError(f"layout need {n!r} is out of range; allowed: integers 1..{MAX_WATER_NEED}")


def _cell(key: str, cell: Any, width: int, height: int) -> tuple[int, int]:
    ok = (
        isinstance(cell, (list, tuple, np.ndarray))
        and len(cell) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in cell)
    )
    if not ok or not (0 <= cell[0] < height and 0 <= cell[1] < width):
        raise ConfigError(
            f"layout {key} cell {cell!r} is invalid; allowed: [y, x] with 0 <= y < {height}, "
            f"0 <= x < {width}"
        )
    return int(cell[0]), int(cell[1])


# ---------------------------------------------------------------------------- batched helpers
def bfs_distance(free: np.ndarray, src_y: np.ndarray, src_x: np.ndarray) -> np.ndarray:
    """4-connected BFS step distances from one source per map, for k maps at once.

    ``free`` is (k, H, W) bool; returns (k, H, W) int32 with UNREACHABLE where no path exists.
    One array program per BFS level over flattened padded maps, no loop over maps.
    """
    k, h, w = free.shape
    s = w + 2  # row stride of the padded map
    fp = np.zeros((k, h + 2, s), dtype=bool)
    fp[:, 1:-1, 1:-1] = free
    fp = fp.reshape(k, -1)
    src = (np.asarray(src_y) + 1) * s + np.asarray(src_x) + 1
    frontier = np.zeros_like(fp)
    frontier[np.arange(k), src] = True
    frontier &= fp
    unseen = fp & ~frontier  # free cells not reached yet
    dist = np.full(fp.shape, UNREACHABLE, dtype=np.int32)
    dist[frontier] = 0
    nxt = np.empty_like(fp)
    level = 0
    while True:
        level += 1
        nxt[:, 0] = False
        nxt[:, 1:] = frontier[:, :-1]
        nxt[:, :-1] |= frontier[:, 1:]
        nxt[:, s:] |= frontier[:, :-s]
        nxt[:, :-s] |= frontier[:, s:]
        nxt &= unseen
        if not nxt.any():
            break
        np.copyto(dist, level, where=nxt)
        np.greater(unseen, nxt, out=unseen)  # unseen and not nxt
        frontier, nxt = nxt, frontier
    return dist.reshape(k, h + 2, s)[:, 1:-1, 1:-1]


def sector_owners(dist: np.ndarray, base_cell: int, width: int, n_drones: int) -> np.ndarray:
    """Owner (0..n_drones-1) of each cell of one field, -1 for cells not reachable: the sectors of
    env.sectors's sweep and of the recon compass (env.core, layout v7).

    ``dist`` is the field's flat BFS distance to the base (padded or not: the angles, and so the
    sectors, are the same), ``width`` its row length.
    Reachable cells are ordered by their angle around the base, starting after the widest empty
    direction (a base on an edge or in a corner has half or three quarters of the circle empty, and a
    sector must not wrap across it), and cut into ``n_drones`` runs of equal length.
    """
    owner = np.full(dist.shape, -1, dtype=np.int64)
    cells = np.flatnonzero(dist < UNREACHABLE)
    by, bx = divmod(int(base_cell), width)
    angle = np.arctan2(cells // width - by, cells % width - bx)  # the base itself: atan2(0, 0) = 0
    ordered = np.sort(angle)
    gaps = np.diff(np.r_[ordered, ordered[0] + 2 * np.pi])
    start = ordered[(int(np.argmax(gaps)) + 1) % ordered.size]
    order = np.argsort(np.mod(angle - start, 2 * np.pi), kind="stable")
    for drone, run in enumerate(np.array_split(order, n_drones)):
        owner[cells[run]] = drone
    return owner


@dataclass
class LayoutBatch:
    """Arrays of k layouts of one size (what the simulator consumes)."""

    obstacles: np.ndarray  # (k, H, W) bool
    base: np.ndarray  # (k, 2) int64
    plants: np.ndarray  # (k, H, W) bool
    needs: np.ndarray  # (k, H, W) int8, 0 where no plant
    dist: np.ndarray  # (k, H, W) int32 BFS distance to the base

    def layout(self, i: int) -> Layout:
        """Field ``i`` as a Layout object."""
        cells = np.argwhere(self.plants[i])
        return Layout(
            width=int(self.obstacles.shape[2]),
            height=int(self.obstacles.shape[1]),
            base=(int(self.base[i, 0]), int(self.base[i, 1])),
            plants=cells,
            needs=self.needs[i][self.plants[i]].astype(np.int64),
            obstacles=self.obstacles[i].copy(),
        )


def generate_batch(config: FieldConfig, seed: int, fields: np.ndarray, episodes: np.ndarray) -> LayoutBatch:
    """Generate one layout per (field, episode) pair, all at once, reproducibly."""
    fields = np.asarray(fields, dtype=np.int64)
    episodes = np.asarray(episodes, dtype=np.int64)
    k, h, w = len(fields), config.height, config.width
    n_cells = h * w

    def key(stream: int) -> np.ndarray:
        return crng.keys(seed, fields, episodes, stream)

    base_flat = crng.integers(key(_S_BASE), 1, n_cells)[:, 0]
    base = np.stack([base_flat // w, base_flat % w], axis=1)
    dens = config.obstacle_density
    if dens > 0:
        obst, dist = _obstacles(config, seed, fields, episodes, base)
    else:
        obst = np.zeros((k, h, w), dtype=bool)
        yy, xx = np.mgrid[0:h, 0:w]
        dist = np.abs(yy[None] - base[:, 0, None, None]) + np.abs(xx[None] - base[:, 1, None, None])
        dist = dist.astype(np.int32)
    free = (~obst).reshape(k, -1).sum(axis=1)
    if (free < config.n_drones).any():
        raise ConfigError(
            f"obstacle_density={dens} leaves {int(free.min())} reachable free cells, fewer than "
            f"n_drones={config.n_drones}; allowed: a lower obstacle_density or fewer drones",
            field="obstacle_density",
        )
    if config.n_plants is not None:
        n_plants = np.full(k, config.n_plants, dtype=np.int64)
    else:
        n_plants = np.round((free - 1) * float(config.plant_density)).astype(np.int64)
    if (n_plants > free - 1).any():
        i = int(np.argmax(n_plants - free))
        raise ConfigError(
            f"n_plants={int(n_plants[i])} does not fit the {int(free[i]) - 1} reachable free "
            f"cells (base excluded) left by obstacle_density={dens}; allowed: fewer plants or "
            "a lower obstacle_density",
            field="n_plants",
        )
    # Plants: the n smallest random keys among eligible cells (free, not the base).
    u = crng.uniform(key(_S_PLANT), n_cells).reshape(k, n_cells)
    eligible = ~obst.reshape(k, n_cells)
    eligible[np.arange(k), base_flat] = False
    u[~eligible] = 2.0
    srt = np.sort(u, axis=1)
    thr = np.where(n_plants > 0, srt[np.arange(k), np.maximum(n_plants - 1, 0)], -1.0)
    plants = (u <= thr[:, None]) & eligible
    needs_all = 1 + crng.integers(key(_S_NEED), n_cells, config.max_water_need).reshape(k, n_cells)
    needs = np.where(plants, needs_all, 0).astype(np.int8)
    return LayoutBatch(
        obstacles=obst,
        base=base.astype(np.int64),
        plants=plants.reshape(k, h, w),
        needs=needs.reshape(k, h, w),
        dist=dist,
    )


class LayoutPrefetch:
    """The layouts of each field's next few episodes, generated a block at a time.

    ``generate_batch`` costs nearly the same for one layout as for sixteen (16 x 16 with obstacles:
    0.6 ms vs 0.9 ms here), and training finishes one or two fields per step, so drawing each
    reset's layout alone cost about a third of the simulator's step. A layout depends only on
    (seed, field, episode), so the prefetched ones are exactly those a lone call would draw, and a
    block that cannot be drawn (a later episode's obstacles leave too few free cells) falls back to
    the lone call: the ConfigError comes when, and only when, that episode is reached.
    """

    # layouts per block: many for small fields (the per-call overhead dominates), one for large ones
    CELLS_PER_BLOCK = 4096
    MAX_BLOCK = 16

    def __init__(self, config: FieldConfig, num_fields: int, ahead: bool = True) -> None:
        """``ahead=False``: every layout drawn alone (for callers whose episodes restart on each reset)."""
        self.config = config
        cells = config.width * config.height
        self.block = max(1, min(self.MAX_BLOCK, self.CELLS_PER_BLOCK // cells)) if ahead else 1
        self.first = np.full(num_fields, -1, dtype=np.int64)  # first episode held per field; -1: none
        self.seed: int | None = None
        self.held: LayoutBatch | None = None  # arrays (num_fields * block, ...), field-major

    def get(self, seed: int, fields: np.ndarray, episodes: np.ndarray) -> LayoutBatch:
        """The layouts of ``episodes[i]`` of ``fields[i]`` (as ``generate_batch`` would draw them)."""
        fields = np.asarray(fields, dtype=np.int64)
        episodes = np.asarray(episodes, dtype=np.int64)
        if self.block == 1:  # nothing to gain (large fields, no auto-reset), and no second copy kept
            return generate_batch(self.config, seed, fields, episodes)
        if seed != self.seed:
            self.first[:] = -1
            self.seed = seed
        slot = episodes - self.first[fields]
        stale = (self.first[fields] < 0) | (slot < 0) | (slot >= self.block)
        if stale.any():
            try:
                self._fill(fields[stale], episodes[stale])
            except ConfigError:
                return generate_batch(self.config, seed, fields, episodes)
            slot = episodes - self.first[fields]
        rows = fields * self.block + slot
        h = self.held
        assert h is not None
        return LayoutBatch(h.obstacles[rows], h.base[rows], h.plants[rows], h.needs[rows], h.dist[rows])

    def _fill(self, fields: np.ndarray, episodes: np.ndarray) -> None:
        ahead = np.arange(self.block, dtype=np.int64)
        assert self.seed is not None
        new = generate_batch(self.config, self.seed, np.repeat(fields, self.block),
                             (episodes[:, None] + ahead).ravel())
        if self.held is None:
            n = len(self.first) * self.block
            self.held = LayoutBatch(*(np.zeros((n, *a.shape[1:]), a.dtype) for a in (
                new.obstacles, new.base, new.plants, new.needs, new.dist)))
        rows = (fields[:, None] * self.block + ahead).ravel()
        for name in ("obstacles", "base", "plants", "needs", "dist"):
            getattr(self.held, name)[rows] = getattr(new, name)
        self.first[fields] = episodes


def _obstacles(
    config: FieldConfig, seed: int, fields: np.ndarray, episodes: np.ndarray, base: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Obstacle maps with every free cell reachable from the base, and the BFS distance maps.

    Enclosed pockets are filled. A draw whose pockets would swallow more than 10 % of the free
    cells (e.g. the base walled into a corner) is redrawn with the next attempt number, up to 20
    times per field, all fields of an attempt at once.
    """
    k, h, w, dens = len(fields), config.height, config.width, config.obstacle_density
    n_cells = h * w
    obst = np.zeros((k, h, w), dtype=bool)
    dist = np.zeros((k, h, w), dtype=np.int32)
    todo = np.arange(k)
    for attempt in range(20):
        ep = episodes[todo] * 64 + attempt  # attempt number folded into the key, reproducibly
        single = crng.uniform(crng.keys(seed, fields[todo], ep, _S_SINGLE), n_cells).reshape(-1, h, w)
        anchors = crng.uniform(crng.keys(seed, fields[todo], ep, _S_BLOCK), n_cells).reshape(-1, h, w)
        # Poles/wells (single cells) and parked machinery (2 x 2 blocks), about half the mass each.
        anchors = anchors < dens * 0.5 / 4
        ob = single < dens * 0.5
        ob |= anchors
        ob[:, 1:, :] |= anchors[:, :-1, :]
        ob[:, :, 1:] |= anchors[:, :, :-1]
        ob[:, 1:, 1:] |= anchors[:, :-1, :-1]
        # Keep the base and its four neighbours free so drones can always take off.
        ar, bt = np.arange(len(todo)), base[todo]
        for dy, dx in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)):
            yy, xx = bt[:, 0] + dy, bt[:, 1] + dx
            ok = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            ob[ar[ok], yy[ok], xx[ok]] = False
        d = bfs_distance(~ob, bt[:, 0], bt[:, 1])
        pocket = (~ob & (d >= UNREACHABLE)).reshape(len(todo), -1).sum(axis=1)
        good = pocket <= 0.1 * (~ob).reshape(len(todo), -1).sum(axis=1)
        if attempt == 19:
            good[:] = True
        sel = todo[good]
        obst[sel] = ob[good] | (d[good] >= UNREACHABLE)  # enclosed pockets are filled
        dist[sel] = d[good]
        todo = todo[~good]
        if not todo.size:
            break
    return obst, dist


def batch_from_layouts(layouts: list[Layout], config: FieldConfig) -> LayoutBatch:
    """Stack explicit layouts (e.g. from scenario files) into the arrays the simulator uses."""
    for lay in layouts:
        lay.validate(config)
    k, h, w = len(layouts), config.height, config.width
    obst = np.stack([lay.obstacles for lay in layouts]).astype(bool)
    base = np.array([lay.base for lay in layouts], dtype=np.int64).reshape(k, 2)
    plants = np.zeros((k, h, w), dtype=bool)
    needs = np.zeros((k, h, w), dtype=np.int8)
    for i, lay in enumerate(layouts):
        if lay.n_plants:
            plants[i, lay.plants[:, 0], lay.plants[:, 1]] = True
            needs[i, lay.plants[:, 0], lay.plants[:, 1]] = lay.needs
    dist = bfs_distance(~obst, base[:, 0], base[:, 1])
    return LayoutBatch(obstacles=obst, base=base, plants=plants, needs=needs, dist=dist)


def generate_layout(config: FieldConfig, rng: np.random.Generator | int | None = None) -> Layout:
    """One random layout for ``config``; ``rng`` is a numpy Generator or a seed (default config.seed)."""
    if rng is None:
        seed = config.seed
    elif isinstance(rng, (int, np.integer)):
        seed = int(rng)
    else:
        seed = int(rng.integers(0, 2**63 - 1))
    return generate_batch(config, seed, np.array([0]), np.array([0])).layout(0)


def layout_for(config: FieldConfig, seed: int, field: int = 0, episode: int = 0) -> Layout:
    """The layout that field ``field`` of a batch seeded ``seed`` gets in episode ``episode``."""
    return generate_batch(config, seed, np.array([field]), np.array([episode])).layout(0)
