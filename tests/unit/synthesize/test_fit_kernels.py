"""The fit's compiled look-ups: the short loops for R ≤ 3 agree with the general walk.

Every proposal of the fit asks which released combinations an attribute forms with a
record's other attributes (and the summed weight of those that were not released).
Lengths up to 3 take two plain loops; longer ones a depth-first walk. Both must find
the same cells in the same order and the same weight, on any table.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dpshowcase.aggregate.keys import pack
from dpshowcase.errors import ParameterError
from dpshowcase.synthesize import _fit
from dpshowcase.synthesize.aggregate_seeded import _check_int32

N_ATTRIBUTES = 14
BASE = N_ATTRIBUTES + 1


def _released(rng: np.random.Generator, share: float) -> np.ndarray:
    """Every single attribute and a random share of longer combinations (closed under
    subsets), as packed keys."""
    kept: set[tuple[int, ...]] = set()
    for length in (1, 2, 3):
        for combo in itertools.combinations(range(N_ATTRIBUTES), length):
            subsets_kept = all(s in kept for s in itertools.combinations(combo, length - 1))
            if length == 1 or (subsets_kept and rng.random() < share):
                kept.add(combo)
    combos = np.full((len(kept), 3), -1, dtype=np.int32)
    for i, combo in enumerate(sorted(kept)):
        combos[i, : len(combo)] = combo
    return np.sort(pack(combos, BASE))


@pytest.mark.parametrize("share", [0.3, 0.7, 1.0])
@pytest.mark.parametrize("max_others", [1, 2])
def test_short_loops_find_what_the_walk_finds(share: float, max_others: int) -> None:
    rng = np.random.default_rng(int(share * 10) + max_others)
    keys = _released(rng, share)
    weights = np.arange(keys.size, dtype=np.int64) % 7 + 1
    table, _, _ = _fit.build_cells(keys, weights * 10, weights, keys.size)
    length_weight = np.array([0, 97, 31, 5], dtype=np.int64)
    size = N_ATTRIBUTES + 2
    short_out, walk_out = np.empty(size * size, np.int64), np.empty(size * size, np.int64)
    short_u, walk_u = np.zeros(1, np.int64), np.zeros(1, np.int64)
    subset, merged, position = (np.empty(4, np.int64) for _ in range(3))
    for _ in range(300):
        attribute = int(rng.integers(N_ATTRIBUTES))
        rest = [a for a in range(N_ATTRIBUTES) if a != attribute]
        others = np.sort(rng.choice(rest, size=int(rng.integers(1, len(rest) + 1)), replace=False))
        home = _fit._cell(table, np.int64(attribute + 1))
        short_out[0] = walk_out[0] = home
        short_u[0] = walk_u[0] = 0
        args = (others.astype(np.int64), others.size, attribute, max_others, BASE, table,
                length_weight)  # fmt: skip
        n_short = _fit._affected_short(*args, short_out, 1, short_u)
        n_walk = _fit._affected_walk(*args, walk_out, 1, walk_u, subset, merged, position)
        assert n_short == n_walk
        assert short_out[:n_short].tolist() == walk_out[:n_walk].tolist()
        assert short_u[0] == walk_u[0]


@pytest.mark.parametrize("max_others", [1, 2])
def test_the_fit_finds_combinations_by_the_keys_pack_makes(max_others: int) -> None:
    """The fit's kernels key combinations with aggregate.keys (no key arithmetic of their
    own): the cells found for an attribute among a record's others are exactly those of
    the released combinations, packed by ``pack``, that hold it."""
    rng = np.random.default_rng(40 + max_others)
    keys = _released(rng, 0.6)
    table, _, _ = _fit.build_cells(keys, keys * 0 + 1, keys * 0 + 1, keys.size)
    released = set(keys.tolist())
    length_weight = np.array([0, 97, 31, 5], dtype=np.int64)
    size = N_ATTRIBUTES + 2
    out, unreleased = np.empty(size * size, np.int64), np.zeros(1, np.int64)
    scratch = tuple(np.empty(4, np.int64) for _ in range(3))
    for _ in range(100):
        attribute = int(rng.integers(N_ATTRIBUTES))
        rest = [a for a in range(N_ATTRIBUTES) if a != attribute]
        others = np.sort(rng.choice(rest, size=int(rng.integers(1, len(rest) + 1)), replace=False))
        n = _fit._affected(others.astype(np.int64), others.size, attribute, max_others, BASE,
                           table, length_weight, out, unreleased, *scratch)  # fmt: skip
        combos = [
            sorted((attribute, *extra))
            for t in range(max_others + 1)
            for extra in itertools.combinations(others.tolist(), t)
        ]
        padded = np.full((len(combos), 3), -1, dtype=np.int32)
        for i, combo in enumerate(combos):
            padded[i, : len(combo)] = combo
        expected = {int(k) for k in pack(padded, BASE) if int(k) in released}
        found = {int(table[c]) for c in out[:n]}
        assert found == expected


def test_counts_too_large_for_the_fit_are_refused() -> None:
    _check_int32(np.array([0, 5, 2**29], dtype=np.int64))
    with pytest.raises(ParameterError, match="too large"):
        _check_int32(np.array([1, 2**31], dtype=np.int64))
