"""Growing synthetic records attribute by attribute, level by level (see :mod:`._kernels`).

Shared by the row-seeded synthesizer (records grown from sensitive records) and by
consolidation (records grown from a pool of attribute counts).
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from dpshowcase.data.encode import SensitiveData
from dpshowcase.errors import InternalError
from dpshowcase.kanon import _kernels
from dpshowcase.progress import Progress, no_progress

GROWING = "Synthesizing: growing records"
"""The stage :func:`grow` reports unless its caller names another."""

_HASH_RETRIES = 3
_PIECES = 8
"""Work units per level (fixed, so results do not depend on the number of cores)."""


def grow(
    data: SensitiveData,
    resolution: int,
    *,
    seeds: np.ndarray | None = None,
    pool: np.ndarray | None = None,
    n_items: int | None = None,
    rng: np.random.Generator,
    progress: Progress = no_progress,
    stage: str = GROWING,
) -> tuple[np.ndarray, np.ndarray]:
    """Grow records from empty until none can take another attribute.

    With ``seeds`` (sensitive record ids), record i draws only among the attributes of
    sensitive record ``seeds[i]``. Otherwise ``n_items`` records draw among the
    attributes with ``pool[a] > 0``, each draw taking one from ``pool`` (changed in
    place). Returns the records as (indptr, sorted attribute ids). After each level,
    ``progress(stage, records finished, records in all)`` is called.
    """
    for attempt in range(_HASH_RETRIES):
        state = None if pool is None else pool.copy()
        result = _grow_once(data, resolution, seeds, state, n_items, rng, progress, stage)
        if result is not None:
            if pool is not None and state is not None:
                pool[:] = state
            return result
        if attempt == _HASH_RETRIES - 1:
            break
    raise InternalError("Different attribute sets kept sharing a hash while growing records.")


@dataclass
class _State:
    """The records being grown (items) and the rows of the previous level's groups."""

    seed: np.ndarray
    hash: np.ndarray
    set: np.ndarray
    length: np.ndarray
    parent: np.ndarray
    last: np.ndarray
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    start: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    stop: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def empty(cls, seeds: np.ndarray, width: int) -> _State:
        n = seeds.size
        return cls(
            seed=seeds,
            hash=np.zeros(n, dtype=np.uint64),
            set=np.full((n, max(width, 1)), -1, dtype=np.int32),
            length=np.zeros(n, dtype=np.int64),
            parent=np.zeros(n, dtype=np.int64),
            last=np.zeros(n, dtype=np.int64),
        )


def _grow_once(
    data: SensitiveData,
    resolution: int,
    seeds: np.ndarray | None,
    pool: np.ndarray | None,
    n_items: int | None,
    rng: np.random.Generator,
    progress: Progress,
    stage: str,
) -> tuple[np.ndarray, np.ndarray] | None:
    n_attributes = data.attributes.n_attributes
    if seeds is not None:
        item_seed = np.asarray(seeds, dtype=np.int64)
        pool = np.zeros(n_attributes, dtype=np.int64)
    elif pool is None or n_items is None:
        raise InternalError("grow needs seeds, or a pool and a number of records.")
    else:
        item_seed = np.full(n_items, -1, dtype=np.int64)
    data, position = _clustered(data)
    if seeds is not None:
        item_seed = position[item_seed]
    longest = int(data.record_lengths().max()) if data.n_records else 0
    zobrist = rng.integers(1, np.iinfo(np.int64).max, size=n_attributes, dtype=np.int64)
    state = _State.empty(item_seed, longest)
    n = item_seed.size
    active = np.arange(n, dtype=np.int64)
    level = 0
    with ThreadPoolExecutor(max_workers=_threads()) as executor:
        while active.size and level < longest:
            grown = _level(
                data,
                resolution,
                level == 0,
                active,
                state,
                pool,
                seeds is None,
                zobrist.astype(np.uint64),
                rng,
                executor,
            )
            if grown is None:
                return None
            active, grew = grown
            active = active[grew]
            level += 1
            progress(stage, n - active.size, n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(state.length, out=indptr[1:])
    width = state.set.shape[1]
    held = np.arange(width)[None, :] < state.length[:, None]
    ordered = np.sort(np.where(held, state.set, np.iinfo(np.int32).max), axis=1)
    return indptr, ordered[held].astype(np.int32)


def _level(
    data: SensitiveData,
    resolution: int,
    first: bool,
    active: np.ndarray,
    state: _State,
    pool: np.ndarray,
    from_pool: bool,
    zobrist: np.ndarray,
    rng: np.random.Generator,
    executor: ThreadPoolExecutor,
) -> tuple[np.ndarray, np.ndarray] | None:
    """One attribute more for every active record that can take one.

    Returns the active records grouped by set and which of them grew, or None after a
    hash collision.
    """
    active, bounds = _grouped(active, state.hash, state.parent)
    uniforms = rng.random(active.size)
    if first:
        work = np.full(bounds.size - 1, data.n_records, dtype=np.float64)
    else:
        parents = state.parent[active[bounds[:-1]]]
        work = (state.stop[parents] - state.start[parents]).astype(np.float64) + 1.0
    pieces = _split(bounds, work, _PIECES)
    # each piece draws from its own share of the pool (a fixed number of pieces, so a
    # seeded run repeats on any number of cores)
    items = np.array([bounds[hi] - bounds[lo] for lo, hi in pieces], dtype=np.int64)
    shares = _shares(pool, items, rng) if from_pool else [pool] * len(pieces)

    item_state = _kernels.Items(
        state.hash, state.set, state.length, state.parent, state.last, state.seed
    )
    previous = _kernels.Level(state.rows, state.start, state.stop)

    def run(piece: tuple[int, int], share: np.ndarray) -> tuple:
        lo, hi = piece
        return _kernels.grow_groups(
            data.indptr,
            data.indices,
            resolution,
            first,
            active,
            bounds[lo : hi + 1],
            lo,
            uniforms,
            zobrist,
            item_state,
            share,
            previous,
        )

    results = list(executor.map(run, pieces, shares))
    if from_pool and len(pieces) > 1:
        pool[:] = np.sum(shares, axis=0)
    if not all(r[4] for r in results):
        return None
    offsets = np.concatenate([[0], np.cumsum([r[0].size for r in results])]).astype(np.int64)
    state.rows = np.concatenate([r[0] for r in results])
    state.start = np.concatenate([r[1] + o for r, o in zip(results, offsets, strict=False)])
    state.stop = np.concatenate([r[2] + o for r, o in zip(results, offsets, strict=False)])
    return active, np.concatenate([r[3] for r in results])


def _grouped(
    active: np.ndarray, item_hash: np.ndarray, item_parent: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``active`` with records of one set adjacent (a group), groups ordered by the group
    their rows come from, so siblings filter the same parent rows while they are in cache;
    and the group bounds."""
    active = active[np.argsort(item_hash[active], kind="stable")]
    cuts = np.flatnonzero(np.diff(item_hash[active]) != 0) + 1
    firsts = np.concatenate([[0], cuts]).astype(np.int64)
    sizes = np.diff(np.concatenate([firsts, [active.size]]))
    parent = np.repeat(item_parent[active[firsts]], sizes)
    order = np.lexsort((item_hash[active], parent))
    active = active[order]
    bounds = np.concatenate([[0], np.cumsum(sizes[np.argsort(parent[firsts], kind="stable")])])
    return active, bounds.astype(np.int64)


def _shares(pool: np.ndarray, items: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """``pool`` split at random between pieces in proportion to their records."""
    if items.size <= 1:
        return [pool]
    shares = []
    left = pool.copy()
    remaining = float(items.sum())
    for n in items[:-1]:
        share = rng.binomial(left, min(n / remaining, 1.0)) if remaining > 0 else 0 * left
        shares.append(share.astype(np.int64))
        left -= share
        remaining -= n
    shares.append(left)
    return shares


def _split(bounds: np.ndarray, work: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """Contiguous ranges of groups ``[lo, hi)`` with about equal work each."""
    n_groups = bounds.size - 1
    if n_groups <= 1 or parts <= 1:
        return [(0, n_groups)]
    cumulative = np.cumsum(work)
    cuts = np.searchsorted(cumulative, np.linspace(0, cumulative[-1], parts + 1)[1:-1])
    edges = np.unique(np.concatenate([[0], cuts, [n_groups]]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


def _threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _clustered(data: SensitiveData) -> tuple[SensitiveData, np.ndarray]:
    """The records in lexicographic order of their attribute ids, and each record's new
    position: records sharing attributes sit together, so the rows of a set are read
    with fewer cache misses."""
    lengths = data.record_lengths()
    width = int(lengths.max()) if lengths.size else 0
    if width == 0:
        return data, np.arange(data.n_records, dtype=np.int64)
    held = np.arange(width)[None, :] < lengths[:, None]
    padded = np.full((data.n_records, width), np.iinfo(np.int32).max, dtype=np.int32)
    padded[held] = data.indices
    order = np.lexsort(padded.T[::-1])
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    indptr = np.zeros(data.n_records + 1, dtype=np.int64)
    np.cumsum(lengths[order], out=indptr[1:])
    indices = padded[order][held[order]].astype(np.int32)
    clustered = SensitiveData(
        schema=data.schema,
        attributes=data.attributes,
        indptr=indptr,
        indices=indices,
        source_rows=data.source_rows,
    )
    return clustered, position.astype(np.int64)
