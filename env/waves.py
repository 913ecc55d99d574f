"""The breadth-first waves behind the observation's compass, compiled with numba.

The compass (env.core ``SwarmSim._compass``) needs, for every drone, the geodesic distance to the
nearest cell with work left, first within its own region, and which of its four moves lead one step
closer. In numpy that was two waves of one array operation per ring, so a step cost one Python-level
call per ring and per operation (about 60 % of the simulator's step at the training size) and, at
512 x 512, a sweep of the whole field per ring. Here each field is one plain queue-based search:
cost in proportion to the cells the waves touch. The rules are those of ``env.reference`` (the
plain per-drone oracle); tests/env compare the two step by step.

Moves are bit-coded: bit j = move j in (up, down, left, right).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from numba import njit


def compiled(function: Callable) -> Callable:
    """``function`` compiled by numba, cached on disk when a cache location is writable.

    numba caches next to this file, else under the user's cache directory (or NUMBA_CACHE_DIR), so
    only the first process on a machine pays the compilation (2-3 s). A service user with a
    read-only install and no home gets no cache location: numba then refuses ``cache=True`` at
    decoration, and the function is compiled in every process instead of failing the import."""
    try:
        return njit(cache=True, nogil=True)(function)
    except RuntimeError:
        return njit(nogil=True)(function)


@compiled
def _grow(front: np.ndarray, count: int, free: np.ndarray, offsets: np.ndarray, ring: int,
          ring_of: np.ndarray, new: np.ndarray) -> int:
    """One ring of a wave: the free, unreached neighbours of the first ``count`` cells of ``front``
    get ``ring`` in ``ring_of`` and are listed in ``new``; returns how many."""
    added = 0
    for q in range(count):
        for j in range(4):
            d = front[q] + offsets[j]
            if free[d] and ring_of[d] < 0:
                ring_of[d] = ring
                new[added] = d
                added += 1
    return added


@compiled
def _nearest_seed_from(start: int, free: np.ndarray, seeds: np.ndarray, offsets: np.ndarray,
                       ring_of: np.ndarray, first: np.ndarray, seen: np.ndarray, limit: int,
                       sector: np.ndarray, who: int) -> tuple:
    """A wave from one drone's cell until the first ring that holds a seed (with ``who`` >= 0: a seed
    of sector ``who``, ``sector`` giving each cell's).

    Returns (distance, moves, cells touched): distance -1 when it gave up after ``limit`` cells, -2
    when no seed is reachable; moves: the union of the first moves of the shortest paths to the seeds
    at that distance, which are exactly the moves to a neighbour one step closer to the nearest seed.
    ``ring_of`` must be -1 everywhere and is left so."""
    ring_of[start] = 0
    seen[0] = start
    total, lo, hi, ring = 1, 0, 1, 0
    result, bits = -2, np.uint8(0)
    while hi > lo and result == -2:
        ring += 1
        for q in range(lo, hi):
            c = seen[q]
            for j in range(4):
                d = c + offsets[j]
                if not free[d]:
                    continue
                via = np.uint8(1 << j) if ring == 1 else first[c]
                if ring_of[d] < 0:
                    if total >= limit:
                        result = -1
                        break
                    ring_of[d] = ring
                    first[d] = via
                    seen[total] = d
                    total += 1
                elif ring_of[d] == ring:
                    first[d] |= via
            if result == -1:  # gave up: leave the ring at once
                break
        if result == -1:
            break
        for q in range(hi, total):
            if seeds[seen[q]] and (who < 0 or sector[seen[q]] == who):
                result = ring
                bits |= first[seen[q]]
        lo, hi = hi, total
    for q in range(total):
        ring_of[seen[q]] = -1
    return result, bits, total


@compiled
def _nearest_work(seeds: np.ndarray, free: np.ndarray, cell: np.ndarray, todo: np.ndarray,
                  offsets: np.ndarray, budget: int, final: bool, ring_of: np.ndarray, front: np.ndarray,
                  nxt: np.ndarray, mark: np.ndarray, first: np.ndarray, seen: np.ndarray, dist: np.ndarray,
                  moves: np.ndarray) -> None:
    """The nearest seed anywhere for every drone of one field with ``todo`` (``dist``/``moves``: that
    field's rows): first by a wave from the drone itself, while these waves have touched fewer than
    ``budget`` cells (few such drones, work near them), then by a wave from all seeds that stops once
    it has reached every drone left (many drones, or work far away: one wave serves them all). Both
    give the same answer; ``budget`` only moves the cost. A drone no seed reaches stays in ``todo``
    for a later call, unless ``final`` (then it is done, with no distance and no moves)."""
    n, size = cell.shape[0], free.shape[0]
    left = 0
    for i in range(n):
        left += todo[i]
    spent = 0
    for i in range(n):
        if todo[i] and spent < budget:
            d, bits, used = _nearest_seed_from(cell[i], free, seeds, offsets, mark, first, seen,
                                               budget - spent, _ANY_SECTOR, -1)
            spent += used
            if d > 0 or (d == -2 and final):  # found, or (final) no seed reachable at all
                if d > 0:
                    dist[i] = d
                    moves[i] = bits
                todo[i] = False
                left -= 1
    if not left:
        return
    ring_of[:] = -1
    count = 0
    for c in range(size):
        if seeds[c] and free[c]:
            ring_of[c] = 0
            front[count] = c
            count += 1
    ring = 0
    while left and count:
        ring += 1
        new = _grow(front, count, free, offsets, ring, ring_of, nxt)
        for i in range(n):
            if todo[i] and ring_of[cell[i]] == ring:
                dist[i] = ring
                for j in range(4):
                    if ring_of[cell[i] + offsets[j]] == ring - 1:
                        moves[i] |= np.uint8(1 << j)
                todo[i] = False
                left -= 1
        front, nxt = nxt, front
        count = new
    if final:
        todo[:] = False


_ANY_SECTOR = np.empty(0, dtype=np.int32)  # ``sector`` of a wave that takes any seed (who = -1)


@compiled
def _own_sector_work(seeds: np.ndarray, free: np.ndarray, cell: np.ndarray, carriers: np.ndarray,
                     sector: np.ndarray, offsets: np.ndarray, ring_of: np.ndarray, first: np.ndarray,
                     seen: np.ndarray, left: np.ndarray, dist: np.ndarray, moves: np.ndarray) -> None:
    """The way of every carrier of one field whose sector (``sector``: each cell's owner, -1 none)
    still has work: by a wave from the drone through any free cell, to the nearest seed of its own
    sector (``dist``/``moves``: that field's rows; the others are left alone). ``left``: (n,)
    scratch."""
    n = cell.shape[0]
    left[:] = 0
    for c in range(seeds.shape[0]):
        if seeds[c] and sector[c] >= 0:
            left[sector[c]] += 1
    for i in range(n):
        if not carriers[i] or left[i] == 0:
            continue
        if seeds[cell[i]] and sector[cell[i]] == i:
            dist[i] = 0
            continue
        d, bits, _ = _nearest_seed_from(cell[i], free, seeds, offsets, ring_of, first, seen,
                                        free.shape[0] + 1, sector, i)
        if d > 0:
            dist[i] = d
            moves[i] = bits


@compiled
def compass_waves(seeds: np.ndarray, free: np.ndarray, cell: np.ndarray, carriers: np.ndarray,
                  elsewhere: np.ndarray, width: int, reach: int, unreachable: int, budget: int,
                  claim: bool, sector: np.ndarray, dist: np.ndarray, moves: np.ndarray) -> None:
    """Fill ``dist`` (k, n) and ``moves`` (k, n) of every drone of every field.

    ``seeds``/``free``: (k, cells) bool over the padded fields (work left; not blocked; the padding is
    blocked); ``cell``: (k, n) flat cell of each drone; ``carriers``: (k, n) bool, the drones that have
    an own region (none: every drone looks for the nearest work anywhere); ``elsewhere``: (k, n) bool,
    drones that need no distance beyond their region (the caller overwrites theirs: homebound ones);
    ``width``: padded width.

    Own regions: one wave from all carriers of a field, ring by ring: a cell first reached at ring t
    takes the smallest owner among its neighbours of ring t - 1 (the smallest index among its nearest
    carriers) and the union of their first moves. A carrier sharing its cell with a lower index has no
    region. A carrier's distance is the ring at which its region first reaches a seed, its moves those
    of the seed cells reached then; it stops looking at ``reach`` rings, or once its region stops
    growing. With ``claim``, the seeds a carrier found so (its nearest in its region, ties included)
    are claimed. Every drone still without a distance then gets the nearest unclaimed seed anywhere,
    and only when none is reachable the nearest seed anywhere (``_nearest_work``): several carriers
    whose regions held no work otherwise all flew to the plant another carrier was already bringing
    water to (v6). Drones no wave reaches keep ``unreachable`` and no moves.

    ``sector``: (k, cells) int32, each cell's owner (env.layout.sector_owners), or (k, 0): with it a
    carrier's region is its sector instead, fixed for the episode (v7, ``_own_sector_work``); no
    seed is claimed then."""
    k, size = free.shape
    n = cell.shape[1]
    offsets = np.array([-width, width, -1, 1], dtype=np.int64)
    back = np.array([2, 1, 8, 4], dtype=np.uint8)  # from neighbour j, the move back to the cell
    ring_of = np.empty(size, dtype=np.int32)
    owner = np.empty(size, dtype=np.int32)
    first = np.empty(size, dtype=np.uint8)
    front = np.empty(size, dtype=np.int64)
    nxt = np.empty(size, dtype=np.int64)
    mark = np.full(size, -1, dtype=np.int32)  # the drones' own waves (restored after each)
    seen = np.empty(size, dtype=np.int64)
    todo = np.empty(n, dtype=np.bool_)
    grew = np.empty(n, dtype=np.bool_)
    claimed = np.empty(size, dtype=np.int64)  # the seeds the carriers of the current field found
    unclaimed = np.empty(size, dtype=np.bool_)
    left_in = np.empty(n, dtype=np.int64)
    for f in range(k):
        n_claimed = 0
        fr, sd, cl = free[f], seeds[f], cell[f]
        for i in range(n):
            dist[f, i] = unreachable
            moves[f, i] = 0
        # ---- own regions: sectors (v7), or the cells nearest each carrier
        if sector.shape[1]:
            _own_sector_work(sd, fr, cl, carriers[f] & ~elsewhere[f], sector[f], offsets, mark, first, seen,
                             left_in, dist[f], moves[f])
        elif carriers[f].any():
            ring_of[:] = -1
            owner[:] = n
            count = 0
            for i in range(n):
                if carriers[f, i]:
                    c = cl[i]
                    if ring_of[c] < 0:
                        ring_of[c] = 0
                        front[count] = c
                        count += 1
                    owner[c] = min(owner[c], i)
            left = 0
            for i in range(n):
                todo[i] = carriers[f, i] and owner[cl[i]] == i
                if todo[i] and sd[cl[i]]:
                    dist[f, i] = 0
                    todo[i] = False
                    claimed[n_claimed] = cl[i]
                    n_claimed += 1
                left += todo[i]
            ring = 0
            while left and count and ring < reach:
                ring += 1
                new = _grow(front, count, fr, offsets, ring, ring_of, nxt)
                for q in range(new):
                    d = nxt[q]
                    best, bits = n, np.uint8(0)
                    for j in range(4):
                        e = d + offsets[j]
                        if ring_of[e] == ring - 1:
                            via = back[j] if ring == 1 else first[e]
                            if owner[e] < best:
                                best, bits = owner[e], via
                            elif owner[e] == best:
                                bits |= via
                    owner[d] = best
                    first[d] = bits
                grew[:] = False
                for q in range(new):
                    d = nxt[q]
                    o = owner[d]
                    grew[o] = True
                    if sd[d] and todo[o]:
                        dist[f, o] = ring
                        moves[f, o] |= first[d]
                        claimed[n_claimed] = d
                        n_claimed += 1
                left = 0
                for i in range(n):
                    # found this ring, or a region that did not grow (it never will): stop looking
                    todo[i] = todo[i] and dist[f, i] == unreachable and grew[i]
                    left += todo[i]
                front, nxt = nxt, front
                count = new
        # ---- the nearest unclaimed work anywhere, else the nearest work, for every drone left
        left = 0
        for i in range(n):
            todo[i] = dist[f, i] == unreachable and not elsewhere[f, i]
            if todo[i] and sd[cl[i]]:
                dist[f, i] = 0
                todo[i] = False
            left += todo[i]
        if not left:
            continue
        if claim and n_claimed:
            unclaimed[:] = sd
            for q in range(n_claimed):
                unclaimed[claimed[q]] = False
            _nearest_work(unclaimed, fr, cl, todo, offsets, budget, False, ring_of, front, nxt, mark, first,
                          seen, dist[f], moves[f])
        _nearest_work(sd, fr, cl, todo, offsets, budget, True, ring_of, front, nxt, mark, first, seen,
                      dist[f], moves[f])


@compiled
def _wave_from(goal: int, cells: np.ndarray, blocked: int, offsets: np.ndarray, unreachable: int,
               out: np.ndarray, queue: np.ndarray) -> None:
    """``out``: every cell's geodesic distance to ``goal`` through the cells whose code in ``cells``
    lacks the ``blocked`` bit (``unreachable`` where no way leads), by one breadth-first wave from it."""
    out[:] = unreachable
    out[goal] = 0
    queue[0] = goal
    head, tail = 0, 1
    while head < tail:
        c = queue[head]
        head += 1
        for j in range(4):
            d = c + offsets[j]
            if not cells[d] & blocked and out[d] == unreachable:
                out[d] = out[c] + 1
                queue[tail] = d
                tail += 1


@compiled
def target_ways(packed: np.ndarray, blocked: int, fields: np.ndarray, cell: np.ndarray, target: np.ndarray,
                width: int, unreachable: int, maps: np.ndarray, mapped: np.ndarray, dist: np.ndarray,
                moves: np.ndarray) -> None:
    """Fill ``dist`` (k, n) and ``moves`` (k, n) with each drone's way to its own ``target`` (k, n),
    a padded cell of its field (-1: none; then ``unreachable`` and no moves): the geodesic distance
    and the moves one step closer along a shortest path (the compass of layout v8, which leads a
    watering drone to the next plant of its sortie). ``packed``: (fields, cells) cell codes, a cell
    with the ``blocked`` bit (the padding has it) is not entered; ``fields``: (k,) the rows' fields.

    ``maps`` (fields, n, cells) int32 and ``mapped`` (fields, n) persist between calls: each drone's
    distance map from the target it was last led to, and that target (-1: none; the caller sets it
    when a field's obstacles change). A map is made (one wave through the field) only when a drone's
    target changes, so a step costs a few reads per drone: a wave per drone and step cost up to
    240 ms a step on a 512 x 512 field with 128 drones flying to plants hundreds of cells away."""
    k, n = cell.shape
    offsets = np.array([-width, width, -1, 1], dtype=np.int64)
    queue = np.empty(packed.shape[1], dtype=np.int64)
    for r in range(k):
        f = fields[r]
        for i in range(n):
            dist[r, i] = unreachable
            moves[r, i] = 0
            goal = target[r, i]
            if goal < 0:
                continue
            way = maps[f, i]
            if mapped[f, i] != goal:
                _wave_from(goal, packed[f], blocked, offsets, unreachable, way, queue)
                mapped[f, i] = goal
            c = cell[r, i]
            here = way[c]
            if here >= unreachable:
                continue
            dist[r, i] = here
            for j in range(4):
                if here > 0 and way[c + offsets[j]] == here - 1:
                    moves[r, i] |= np.uint8(1 << j)
