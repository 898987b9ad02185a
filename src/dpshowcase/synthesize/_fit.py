"""Compiled kernels of aggregate-fitted synthesis (numba).

Synthetic records are rows of *slots*: one slot per single-valued column (holding one
attribute id or -1 for absence) and one per multi-value attribute (holding it or -1).
Every combination of length ≤ R that a synthetic record holds must be a released
(protected) combination: nothing is fabricated beyond the release itself. The
synthetic count of each released combination is kept in an array parallel to the
released keys, so the objective — the L1 distance between synthetic and protected
counts over all released combinations — changes locally with every move.

A move sets one slot of one record to another value (or clears it). Its effect is the
combinations that contain the old or the new attribute together with up to R−1 of the
record's other attributes. A move is taken when it does not increase the objective and
keeps every combination released. Proposals favour values whose single-attribute
count is furthest below target, which fills records quickly from empty and then keeps
correcting them, as PrivSyn's gradual update does for its marginals.
"""

from __future__ import annotations

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
CHILD_TRIES = 8
"""A grow move looks at this many random children and takes the one most below target."""


@numba.njit(cache=True)
def seed(value: int) -> None:
    """Seed numba's generator (synthesis sampling only; never DP noise)."""
    np.random.seed(value)


@numba.njit(cache=True)
def build_table(keys: np.ndarray, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """Open-addressing table: packed key → row index in ``keys``, room for ``capacity`` rows."""
    size = 1
    while size < 2 * capacity + 2:
        size *= 2
    table_keys = np.zeros(size, dtype=np.int64)
    table_rows = np.full(size, -1, dtype=np.int64)
    mask = size - 1
    for i in range(keys.size):
        s = np.int64((np.uint64(keys[i]) * _GOLDEN) >> np.uint64(20)) & mask
        while table_keys[s] != 0:
            s = (s + 1) & mask
        table_keys[s] = keys[i]
        table_rows[s] = i
    return table_keys, table_rows


@numba.njit(cache=True, inline="always")
def _find(table_keys: np.ndarray, table_rows: np.ndarray, key: np.int64) -> np.int64:
    mask = table_keys.size - 1
    s = np.int64((np.uint64(key) * _GOLDEN) >> np.uint64(20)) & mask
    while True:
        k = table_keys[s]
        if k == key:
            return table_rows[s]
        if k == 0:
            return -1
        s = (s + 1) & mask


@numba.njit(cache=True, inline="always")
def _find_or_insert(
    table_keys: np.ndarray,
    table_rows: np.ndarray,
    key: np.int64,
    used: np.ndarray,
    weight: np.ndarray,
    length_weight: np.ndarray,
    length: int,
) -> np.int64:
    """Row of ``key``; an unreleased combination gets a new row (target 0) if there is room."""
    mask = table_keys.size - 1
    s = np.int64((np.uint64(key) * _GOLDEN) >> np.uint64(20)) & mask
    while True:
        k = table_keys[s]
        if k == key:
            return table_rows[s]
        if k == 0:
            row = used[0]
            if row >= weight.size:
                return -1
            table_keys[s] = key
            table_rows[s] = row
            weight[row] = length_weight[length]
            used[0] = row + 1
            return row
        s = (s + 1) & mask


@numba.njit(cache=True)
def _affected(
    others: np.ndarray,
    n_others: int,
    attribute: int,
    max_others: int,
    base: int,
    table_keys: np.ndarray,
    table_rows: np.ndarray,
    out: np.ndarray,
    subset: np.ndarray,
    merged: np.ndarray,
    position: np.ndarray,
    used: np.ndarray,
    weight: np.ndarray,
    length_weight: np.ndarray,
) -> int:
    """Rows of the combinations of ``attribute`` with ≤ max_others of ``others`` (sorted).

    Returns how many were written to ``out``, or -1 if one of them is not released.
    ``subset``, ``merged`` and ``position`` are scratch arrays of size ≥ max_others + 2.
    """
    n = 0
    # depth-first over increasing index subsets of others, sizes 0..max_others
    depth = 0
    position[0] = 0
    # size-0 subset
    row = _find_or_insert(
        table_keys, table_rows, np.int64(attribute + 1), used, weight, length_weight, 1
    )
    if row < 0:
        return -1
    out[n] = row
    n += 1
    if max_others == 0 or n_others == 0:
        return n
    while depth >= 0:
        p = position[depth]
        if p >= n_others:
            depth -= 1
            if depth >= 0:
                position[depth] += 1
            continue
        subset[depth] = others[p]
        size = depth + 1
        # merge attribute into the sorted subset and pack
        placed = False
        j = 0
        for i in range(size):
            if not placed and attribute < subset[i]:
                merged[j] = attribute
                j += 1
                placed = True
            merged[j] = subset[i]
            j += 1
        if not placed:
            merged[j] = attribute
            j += 1
        key = np.int64(0)
        for i in range(j):
            key = key * base + merged[i] + 1
        row = _find_or_insert(table_keys, table_rows, key, used, weight, length_weight, j)
        if row < 0:
            return -1
        out[n] = row
        n += 1
        if size < max_others and p + 1 < n_others:
            depth += 1
            position[depth] = p + 1
        else:
            position[depth] += 1
    return n


@numba.njit(cache=True)
def _others(record: np.ndarray, skip: int, out: np.ndarray) -> int:
    """Sorted attribute ids of the record's slots other than ``skip``."""
    n = 0
    for s in range(record.size):
        a = record[s]
        if s != skip and a >= 0:
            i = n
            while i > 0 and out[i - 1] > a:
                out[i] = out[i - 1]
                i -= 1
            out[i] = a
            n += 1
    return n


@numba.njit(cache=True)
def _pack_sorted(values: np.ndarray, count: int, base: int) -> np.int64:
    key = np.int64(0)
    for i in range(count):
        key = key * base + values[i] + 1
    return key


@numba.njit(cache=True)
def fit_records(
    records: np.ndarray,
    synthetic: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray,
    slot_of: np.ndarray,
    absent_target: np.ndarray,
    absent_weight: float,
    child_start: np.ndarray,
    child_row: np.ndarray,
    child_attribute: np.ndarray,
    n_released: int,
    table_keys: np.ndarray,
    table_rows: np.ndarray,
    used: np.ndarray,
    length_weight: np.ndarray,
    base: int,
    reporting_length: int,
    moves: int,
    temperature: float,
) -> int:
    """Make ``moves`` proposals on random records; return how many were taken.

    ``records`` (n, slots) and ``synthetic`` (counts per combination row) are updated in
    place and always agree with each other. Proposals come in two kinds:

    * grow: take j < R of the record's attributes (a released combination S), and
      choose an extension S ∪ {c} among S's released children, weighted by how far
      its synthetic count is below target; put c in its slot;
    * prune: clear one of the record's attributes.

    ``child_start[row]:child_start[row+1]`` lists the children of released row ``row``
    (``child_start[n_released]`` onward: the children of the empty combination, i.e.
    every single attribute).
    """
    n, n_slots = records.shape
    max_others = reporting_length - 1
    cap = 1
    for i in range(max_others):
        cap = cap * (n_slots - i) // (i + 1) + cap
    cap = cap + 2
    removed = np.empty(cap * 2, dtype=np.int64)
    added = np.empty(cap * 2, dtype=np.int64)
    others = np.empty(n_slots, dtype=np.int64)
    present = np.empty(n_slots, dtype=np.int64)
    chosen = np.empty(reporting_length + 1, dtype=np.int64)
    subset = np.empty(max_others + 2, dtype=np.int64)
    merged = np.empty(max_others + 2, dtype=np.int64)
    position = np.empty(max_others + 2, dtype=np.int64)
    absent_now = np.zeros(n_slots, dtype=np.int64)
    for r in range(n):
        for s in range(n_slots):
            if records[r, s] < 0:
                absent_now[s] += 1
    taken = 0
    for _ in range(moves):
        r = np.random.randint(n)
        m = 0
        for s in range(n_slots):
            a = records[r, s]
            if a >= 0:
                present[m] = a
                m += 1
        # present is in slot order; sort it (attribute ids) for packing
        for i in range(1, m):
            v = present[i]
            j = i
            while j > 0 and present[j - 1] > v:
                present[j] = present[j - 1]
                j -= 1
            present[j] = v
        if m > 0 and np.random.random() < 0.35:
            old = present[np.random.randint(m)]
            s = slot_of[old]
            new = -1
        else:
            j = np.random.randint(min(max_others, m) + 1)
            # a random j-subset of present, kept sorted
            for i in range(m):
                others[i] = present[i]
            for i in range(j):
                k = i + np.random.randint(m - i)
                others[i], others[k] = others[k], others[i]
            for i in range(j):
                chosen[i] = others[i]
            for i in range(1, j):
                v = chosen[i]
                k = i
                while k > 0 and chosen[k - 1] > v:
                    chosen[k] = chosen[k - 1]
                    k -= 1
                chosen[k] = v
            if j == 0:
                parent = n_released
            else:
                parent = _find(table_keys, table_rows, _pack_sorted(chosen, j, base))
                if parent < 0 or parent >= n_released:
                    continue
            lo = child_start[parent]
            hi = child_start[parent + 1]
            if hi == lo:
                continue
            # best of a few random children: the one furthest below its target
            new = -1
            best = 0.0
            for _try in range(CHILD_TRIES):
                i = lo + np.random.randint(hi - lo)
                row = child_row[i]
                d = (target[row] - synthetic[row]) * weight[row]
                if d > best:
                    best = d
                    new = child_attribute[i]
            if new < 0:
                continue
            s = slot_of[new]
            old = records[r, s]
            if old == new:
                continue
        k = _others(records[r], s, others)
        n_removed = 0
        if old >= 0:
            n_removed = _affected(
                others,
                k,
                old,
                max_others,
                base,
                table_keys,
                table_rows,
                removed,
                subset,
                merged,
                position,
                used,
                weight,
                length_weight,
            )
        n_added = 0
        if new >= 0:
            n_added = _affected(
                others,
                k,
                new,
                max_others,
                base,
                table_keys,
                table_rows,
                added,
                subset,
                merged,
                position,
                used,
                weight,
                length_weight,
            )
            if n_added < 0:
                continue
        delta = 0.0
        for i in range(n_removed):
            row = removed[i]
            delta += -weight[row] if synthetic[row] > target[row] else weight[row]
        for i in range(n_added):
            row = added[i]
            delta += -weight[row] if synthetic[row] < target[row] else weight[row]
        # absence is part of the objective too: it keeps the row count honest
        if old < 0:
            delta += -absent_weight if absent_now[s] > absent_target[s] else absent_weight
        if new < 0:
            delta += -absent_weight if absent_now[s] < absent_target[s] else absent_weight
        if delta > 0 and (temperature <= 0 or np.random.random() >= np.exp(-delta / temperature)):
            continue
        for i in range(n_removed):
            synthetic[removed[i]] -= 1
        for i in range(n_added):
            synthetic[added[i]] += 1
        if old < 0:
            absent_now[s] -= 1
        if new < 0:
            absent_now[s] += 1
        records[r, s] = new
        taken += 1
    return taken
