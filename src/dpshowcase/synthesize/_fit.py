"""Compiled kernels of aggregate-fitted synthesis (numba).

Synthetic records are rows of *slots*: one slot per single-valued column (holding one
attribute id or -1 for absence) and one per multi-value attribute (holding it or -1).
Each combination a record holds (up to length R) has a cell in one open-addressing
table: ``table[i]`` holds its key (probed alone, so the keys stay in the core's cache)
and ``cells[i] = (released row or -1, target, synthetic count, weight)`` its figures.
Released combinations have their protected count as target; any other combination a
record holds has target 0, so each occurrence is an error weighed by the fabrication
weight (such combinations need no cell). The objective is Σ weight·|synthetic − target|
over all combinations, plus the same for the number of records without a value in each
slot.

A move sets one slot of one record to another value or clears it; its effect is the
combinations of the old and the new attribute with up to R−1 of the record's other
attributes, so the objective changes locally. Proposals grow a record along released
combinations whose synthetic count is below target (a random subset S of the record's
attributes, extended by one of S's released children), prune one attribute, or swap one
slot's values between two records chosen to bring a released pair that is far off
closer to its target (a swap leaves single counts as they are, so it moves an attribute
between records without first paying for a single-count error: a two-step move a
one-slot search cannot make); a move is taken when it does not
make the objective worse (or, early on, with the annealing probability exp(−Δ/T)).
A tail of swaps (:func:`fit_tail`) then works on the released pairs still outside 2%
(or one record) of their target, relative to that tolerance rather than in records.
This is PrivSyn's gradual update carried over from full marginals to released
combinations.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from dpshowcase.aggregate.keys import extend_key

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
ROW, TARGET, SYNTHETIC, WEIGHT = 0, 1, 2, 3
WEIGHT_UNIT = 1024
"""Weights are stored as integers in units of 1/WEIGHT_UNIT."""
SWAP_SHARE = 0.15
"""Share of proposals that exchange one slot's values between two records, chosen to
bring a released pair that is far off closer to its target (see :func:`_swap_for_pair`)."""
SWAP_TRIES = 8
"""A swap looks at this many of the pairs furthest off and takes the one furthest off."""
RECORD_SEARCH = 64
"""A swap looks at up to this many random records for each of its two records."""
PRUNE_SHARE = 0.35
"""Share of proposals that clear one slot (the rest grow records)."""
CHILD_TRIES = 8
"""A grow move looks at this many random children and takes the one most below target."""
RECORD_RETRIES = 8
"""A single attribute proposed for a record that has it is tried on this many others."""


@numba.njit(cache=True)
def seed(value: int) -> None:
    """Seed numba's generator (synthesis sampling only; never DP noise)."""
    np.random.seed(value)


@numba.njit(cache=True, inline="always")
def _home(key: int | np.integer, mask: int) -> int:
    return int(np.int64((np.uint64(key) * _GOLDEN) >> np.uint64(20)) & mask)


@numba.njit(cache=True)
def build_cells(
    keys: np.ndarray, targets: np.ndarray, weights: np.ndarray, capacity: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cell table holding the released combinations, with room for ``capacity`` cells.

    Returns the keys (int64, 0 for an empty cell), the figures of each cell (int32:
    half the memory, so more of the table stays in cache; counts and weights fit) and,
    per released row, the index of its cell.
    """
    size = 1
    while size < 2 * capacity + 2:
        size *= 2
    table = np.zeros(size, dtype=np.int64)
    cells = np.zeros((size, 4), dtype=np.int32)
    cells[:, ROW] = -1
    where = np.empty(keys.size, dtype=np.int64)
    mask = size - 1
    for i in range(keys.size):
        s = _home(keys[i], mask)
        while table[s] != 0:
            s = (s + 1) & mask
        table[s] = keys[i]
        cells[s, ROW] = i
        cells[s, TARGET] = targets[i]
        cells[s, WEIGHT] = weights[i]
        where[i] = s
    return table, cells, where


@numba.njit(cache=True, inline="always")
def _cell(table: np.ndarray, key: int | np.integer) -> int:
    mask = table.shape[0] - 1
    s = _home(key, mask)
    while True:
        k = table[s]
        if k == key:
            return s
        if k == 0:
            return -1
        s = (s + 1) & mask


@numba.njit(cache=True, inline="always")
def _supersets_weight(remaining: int, extra: int, length: int, length_weight: np.ndarray) -> int:
    """Weight of a combination of ``length`` and of its extensions by 1..extra of
    ``remaining`` further attributes: Σ_t C(remaining, t)·w[length + t], t = 0..extra."""
    total = 0
    ways = 1
    for t in range(extra + 1):
        if t > remaining:
            break
        if t > 0:
            ways = ways * (remaining - t + 1) // t
        total += ways * length_weight[length + t]
    return total


@numba.njit(cache=True)
def _affected(
    others: np.ndarray,
    n_others: int,
    attribute: int,
    max_others: int,
    base: int,
    table: np.ndarray,
    length_weight: np.ndarray,
    out: np.ndarray,
    unreleased: np.ndarray,
    subset: np.ndarray,
    merged: np.ndarray,
    position: np.ndarray,
) -> int:
    """Cells of the released combinations of ``attribute`` with ≤ max_others of
    ``others`` (sorted); returns how many were written to ``out``.

    Combinations that were not released have target 0, so each occurrence is one unit
    of error whatever the others do: they need no cell, only their summed weight,
    which goes to ``unreleased[0]``.
    """
    n = 0
    unreleased[0] = 0
    cell = _cell(table, extend_key(np.int64(0), attribute, base))
    if cell < 0:
        # released combinations are closed under subsets: none holding it was released
        unreleased[0] += _supersets_weight(n_others, max_others, 1, length_weight)
        return 0
    out[n] = cell
    n += 1
    if max_others == 0 or n_others == 0:
        return n
    if max_others <= 2:
        return _affected_short(
            others, n_others, attribute, max_others, base, table, length_weight, out, n, unreleased
        )
    return _affected_walk(
        others,
        n_others,
        attribute,
        max_others,
        base,
        table,
        length_weight,
        out,
        n,
        unreleased,
        subset,
        merged,
        position,
    )


@numba.njit(cache=True)
def _affected_walk(
    others: np.ndarray,
    n_others: int,
    attribute: int,
    max_others: int,
    base: int,
    table: np.ndarray,
    length_weight: np.ndarray,
    out: np.ndarray,
    n: int,
    unreleased: np.ndarray,
    subset: np.ndarray,
    merged: np.ndarray,
    position: np.ndarray,
) -> int:
    """The combinations of ``attribute`` with 1..max_others of ``others``, walked depth
    first; ``out`` already holds ``n`` cells. Returns the new count."""
    depth = 0
    position[0] = 0
    while depth >= 0:
        p = position[depth]
        if p >= n_others:
            depth -= 1
            if depth >= 0:
                position[depth] += 1
            continue
        subset[depth] = others[p]
        size = depth + 1
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
            key = extend_key(key, merged[i], base)
        cell = _cell(table, key)
        if cell < 0:
            # neither it nor any extension of it was released: count them, skip them
            unreleased[0] += _supersets_weight(
                n_others - p - 1, max_others - size, j, length_weight
            )
            position[depth] += 1
            continue
        out[n] = cell
        n += 1
        if size < max_others and p + 1 < n_others:
            depth += 1
            position[depth] = p + 1
        else:
            position[depth] += 1
    return n


@numba.njit(cache=True, inline="always")
def _pair_key(low: np.int64, high: np.int64, base: int) -> np.int64:
    """The key of the pair ``low < high`` (see :mod:`dpshowcase.aggregate.keys`)."""
    return extend_key(extend_key(np.int64(0), low, base), high, base)


@numba.njit(cache=True, inline="always")
def _affected_short(
    others: np.ndarray,
    n_others: int,
    attribute: int,
    max_others: int,
    base: int,
    table: np.ndarray,
    length_weight: np.ndarray,
    out: np.ndarray,
    n: int,
    unreleased: np.ndarray,
) -> int:
    """:func:`_affected` for pairs and triples (R ≤ 3, the usual case) as two plain loops:
    the same cells in the same order, without the general walk's bookkeeping."""
    a = np.int64(attribute)
    for i in range(n_others):
        x = np.int64(others[i])
        key = _pair_key(a, x, base) if a < x else _pair_key(x, a, base)
        cell = _cell(table, key)
        if cell < 0:
            # neither the pair nor any triple extending it was released
            unreleased[0] += _supersets_weight(n_others - i - 1, max_others - 1, 2, length_weight)
            continue
        out[n] = cell
        n += 1
        if max_others < 2:
            continue
        for j in range(i + 1, n_others):
            y = np.int64(others[j])  # others are sorted: x < y
            if a < x:
                key = extend_key(_pair_key(a, x, base), y, base)
            elif a < y:
                key = extend_key(_pair_key(x, a, base), y, base)
            else:
                key = extend_key(_pair_key(x, y, base), a, base)
            cell = _cell(table, key)
            if cell < 0:
                unreleased[0] += length_weight[3]
                continue
            out[n] = cell
            n += 1
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


class FitTables(NamedTuple):
    """What the fit reads and updates, passed to the kernel as one argument.

    ``table``/``cells``: the cell table (see :func:`build_cells`); ``cells`` is updated.
    ``length_weight[k]``: error weight of a new (unreleased) combination of length k;
    ``absent_weight``: that of the count of records without a value in a slot.
    ``slot_of[a]``: the slot attribute ``a`` goes in; ``absent_target``/``absent_now``:
    records without a value per slot, wanted and now (``absent_now`` is updated).
    ``child_start[row]:child_start[row+1]`` lists the children (``child_cell``,
    ``child_attribute``: cell and added attribute) of released row ``row``; the children
    of the empty combination (every single attribute) come last, at row ``n_released``.
    ``pair_cell[i]``/``pair_attributes[i]``: cell and attributes of the i-th released
    pair; ``focus``: indices of the pairs swaps work on (see :func:`_swap_for_pair`).
    """

    table: np.ndarray
    cells: np.ndarray
    length_weight: np.ndarray
    absent_weight: int
    slot_of: np.ndarray
    absent_target: np.ndarray
    absent_now: np.ndarray
    child_start: np.ndarray
    child_cell: np.ndarray
    child_attribute: np.ndarray
    n_released: int
    base: int
    reporting_length: int
    pair_cell: np.ndarray
    pair_attributes: np.ndarray
    focus: np.ndarray


class _Scratch(NamedTuple):
    """Buffers of one fitting thread, allocated once per call of :func:`fit_records`.

    ``removed``/``added`` (and ``removed2``/``added2`` for a swap's second record): cells
    losing or gaining an occurrence; ``unreleased_*[0]``: the summed weight of the
    unreleased combinations lost or gained; ``present``/``others``/``chosen``: a record's
    attributes, the others of a slot, a grow move's random subset; ``subset``, ``merged``
    and ``position``: the state of :func:`_affected_walk`.
    """

    removed: np.ndarray
    added: np.ndarray
    removed2: np.ndarray
    added2: np.ndarray
    unreleased_removed: np.ndarray
    unreleased_added: np.ndarray
    present: np.ndarray
    others: np.ndarray
    chosen: np.ndarray
    subset: np.ndarray
    merged: np.ndarray
    position: np.ndarray


@numba.njit(cache=True)
def _scratch(n_slots: int, reporting_length: int) -> _Scratch:
    """Buffers large enough for every combination one move can touch."""
    max_others = reporting_length - 1
    cap = 1  # 1 + C(n_slots, 1) + ... + C(n_slots, max_others), over-estimated
    for i in range(max_others):
        cap = cap * (n_slots - i) // (i + 1) + cap
    cap = cap + 2
    return _Scratch(
        np.empty(cap * 2, dtype=np.int64),
        np.empty(cap * 2, dtype=np.int64),
        np.empty(cap * 2, dtype=np.int64),
        np.empty(cap * 2, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        np.empty(n_slots, dtype=np.int64),
        np.empty(n_slots, dtype=np.int64),
        np.empty(reporting_length + 1, dtype=np.int64),
        np.empty(max_others + 2, dtype=np.int64),
        np.empty(max_others + 2, dtype=np.int64),
        np.empty(max_others + 2, dtype=np.int64),
    )


@numba.njit(cache=True, nogil=True)
def fit_records(records: np.ndarray, fit: FitTables, moves: int, temperature: float) -> int:
    """Make ``moves`` proposals on random records; return how many improved the fit.

    ``records`` (n, slots), ``fit.cells`` and ``fit.absent_now`` are updated in place and
    always agree. Each proposal is a swap (share :data:`SWAP_SHARE`), a prune (share
    :data:`PRUNE_SHARE`) or a grow move; it is taken or not by :func:`_rejected`.
    """
    work = _scratch(records.shape[1], fit.reporting_length)
    taken = 0
    for _ in range(moves):
        u = np.random.random()
        if u < SWAP_SHARE:
            delta = _try_swap(records, fit, temperature, work)
        else:
            r, s, old, new = _propose_one_slot(records, fit, u, work)
            if r < 0:
                continue
            delta = _try_one_slot(records, fit, r, s, old, new, temperature, work)
        if delta < 0:
            taken += 1
    return taken


@numba.njit(cache=True)
def _propose_one_slot(
    records: np.ndarray, fit: FitTables, u: float, work: _Scratch
) -> tuple[int, int, int, int]:
    """(record, slot, old value, new value) of a prune or grow move on a random record,
    or record −1 when no move was found."""
    n, n_slots = records.shape
    r = np.random.randint(n)
    present = work.present
    m = 0
    for s in range(n_slots):
        a = records[r, s]
        if a >= 0:
            present[m] = a
            m += 1
    if m > 0 and u < SWAP_SHARE + PRUNE_SHARE:
        old = present[np.random.randint(m)]
        return r, fit.slot_of[old], old, -1
    return _propose_grow(records, fit, r, m, work)


@numba.njit(cache=True)
def _propose_grow(
    records: np.ndarray, fit: FitTables, r: int, m: int, work: _Scratch
) -> tuple[int, int, int, int]:
    """A grow move: a released child, below target, of a random subset S (up to R−1) of
    record r's ``m`` attributes (in ``work.present``); for S empty, a single attribute
    below target, tried on other records if r holds it already."""
    n = records.shape[0]
    j, parent = _random_parent(fit, m, work)
    if parent < 0:
        return -1, -1, -1, -1
    new = _neediest_child(fit, parent)
    if new < 0:
        return -1, -1, -1, -1
    s = fit.slot_of[new]
    old = records[r, s]
    if old == new and j == 0:
        # a single attribute short of its target: try it on other records
        for _retry in range(RECORD_RETRIES):
            r = np.random.randint(n)
            old = records[r, s]
            if old != new:
                break
    if old == new:
        return -1, -1, -1, -1
    return r, s, old, new


@numba.njit(cache=True, inline="always")
def _random_parent(fit: FitTables, m: int, work: _Scratch) -> tuple[int, int]:
    """(size j, released row) of a random subset of j ≤ R−1 of the record's ``m``
    attributes; row ``fit.n_released`` for the empty set, −1 if it was not released."""
    others = work.others
    chosen = work.chosen
    present = work.present
    j = np.random.randint(min(fit.reporting_length - 1, m) + 1)
    for i in range(m):
        others[i] = present[i]
    for i in range(j):
        k = i + np.random.randint(m - i)
        others[i], others[k] = others[k], others[i]
        chosen[i] = others[i]
    for i in range(1, j):  # sort the chosen subset
        v = chosen[i]
        k = i
        while k > 0 and chosen[k - 1] > v:
            chosen[k] = chosen[k - 1]
            k -= 1
        chosen[k] = v
    if j == 0:
        return j, fit.n_released
    key = np.int64(0)
    for i in range(j):
        key = extend_key(key, chosen[i], fit.base)
    c = _cell(fit.table, key)
    if c < 0 or fit.cells[c, ROW] < 0:
        return j, -1
    return j, fit.cells[c, ROW]


@numba.njit(cache=True, inline="always")
def _neediest_child(fit: FitTables, parent: int) -> int:
    """The added attribute of the child of ``parent``, among :data:`CHILD_TRIES` random
    ones, furthest below target (weighted); −1 if none is below target."""
    lo = fit.child_start[parent]
    hi = fit.child_start[parent + 1]
    if hi == lo:
        return -1
    new = -1
    best = 0
    for _try in range(CHILD_TRIES):
        i = lo + np.random.randint(hi - lo)
        c = fit.child_cell[i]
        d = np.int64(fit.cells[c, TARGET]) - fit.cells[c, SYNTHETIC]
        d *= np.int64(fit.cells[c, WEIGHT])
        if d > best:
            best = d
            new = fit.child_attribute[i]
    return new


@numba.njit(cache=True)
def _try_one_slot(
    records: np.ndarray,
    fit: FitTables,
    r: int,
    s: int,
    old: int,
    new: int,
    temperature: float,
    work: _Scratch,
) -> int:
    """Set slot ``s`` of record ``r`` from ``old`` to ``new`` unless rejected; returns the
    change of the objective if taken, else 0."""
    delta, n_removed, n_added = _evaluate(
        records[r], s, old, new, fit, work.removed, work.added, work
    )
    if _rejected(delta, temperature):
        return 0
    _apply(fit, work.removed, n_removed, work.added, n_added, s, old, new, 1)
    records[r, s] = new
    return delta


@numba.njit(cache=True)
def _try_swap(records: np.ndarray, fit: FitTables, temperature: float, work: _Scratch) -> int:
    """Exchange one slot's values between two records chosen by :func:`_swap_for_pair`
    unless rejected; returns the change of the objective if taken, else 0.

    Single counts and absences stay as they are, only the combinations change. The
    second half (record r2 takes ``old``) is counted after the first is applied, since
    both may touch the same combinations.
    """
    r, r2, s = _swap_for_pair(
        records, fit.cells, fit.pair_cell, fit.pair_attributes, fit.focus, fit.slot_of
    )
    if r < 0:
        return 0
    return _try_exchange(records, fit, r, r2, s, temperature, work)


@numba.njit(cache=True)
def _try_exchange(
    records: np.ndarray,
    fit: FitTables,
    r: int,
    r2: int,
    s: int,
    temperature: float,
    work: _Scratch,
) -> int:
    """Exchange slot ``s`` between records ``r`` and ``r2`` unless rejected; returns the
    change of the objective if taken, else 0."""
    old = records[r, s]
    new = records[r2, s]
    delta, n_removed, n_added = _evaluate(
        records[r], s, old, new, fit, work.removed, work.added, work
    )
    _apply(fit, work.removed, n_removed, work.added, n_added, s, old, new, 1)
    records[r, s] = new
    second, n2_removed, n2_added = _evaluate(
        records[r2], s, new, old, fit, work.removed2, work.added2, work
    )
    if _rejected(delta + second, temperature):
        _apply(fit, work.removed, n_removed, work.added, n_added, s, old, new, -1)
        records[r, s] = old
        return 0
    _apply(fit, work.removed2, n2_removed, work.added2, n2_added, s, new, old, 1)
    records[r2, s] = old
    return delta + second


@numba.njit(cache=True)
def _swap_for_pair(
    records: np.ndarray,
    cells: np.ndarray,
    pair_cell: np.ndarray,
    pair_attributes: np.ndarray,
    focus: np.ndarray,
    slot_of: np.ndarray,
) -> tuple[int, int, int]:
    """Two records and a slot whose exchange moves a released pair (a, b) toward target.

    A pair can be far off while both its attributes' single counts are right (e.g. two
    flags that most records hold one of: too many records hold both and too many
    neither). One-slot moves cannot fix it without first breaking a single count, and
    random exchanges rarely hit the few pairs that are off. So this picks a pair among
    those furthest off (``focus``: indices into ``pair_cell``, refreshed between calls)
    and finds records whose exchange of a's slot moves it toward target: over target,
    r holds a and b and r2 holds neither; under target, r holds a but not b and r2
    holds b but not a. Returns (r, r2, slot of a), or r = −1 if none was found.
    """
    n = records.shape[0]
    best = -1
    gap = 0
    if focus.size == 0:
        return -1, -1, -1
    for _try in range(SWAP_TRIES):
        i = focus[np.random.randint(focus.size)]
        c = pair_cell[i]
        g = np.int64(cells[c, SYNTHETIC]) - cells[c, TARGET]
        if abs(g) > abs(gap):
            best = i
            gap = g
    if best < 0:
        return -1, -1, -1
    flip = np.random.randint(2)
    a = pair_attributes[best, flip]
    b = pair_attributes[best, 1 - flip]
    sa = slot_of[a]
    sb = slot_of[b]
    r = -1
    for _search in range(RECORD_SEARCH):
        x = np.random.randint(n)
        if records[x, sa] == a and (records[x, sb] == b) == (gap > 0):
            r = x
            break
    if r < 0:
        return -1, -1, -1
    for _search in range(RECORD_SEARCH):
        x = np.random.randint(n)
        if records[x, sa] != a and (records[x, sb] == b) == (gap < 0):
            return r, x, sa
    return -1, -1, -1


@numba.njit(cache=True, inline="always")
def _rejected(delta: int, temperature: float) -> bool:
    """A worse move is taken only while annealing, with probability exp(−Δ/T)."""
    return delta > 0 and (
        temperature <= 0 or np.random.random() >= np.exp(-delta / (temperature * WEIGHT_UNIT))
    )


@numba.njit(cache=True)
def _evaluate(
    record: np.ndarray,
    s: int,
    old: int,
    new: int,
    fit: FitTables,
    removed: np.ndarray,
    added: np.ndarray,
    work: _Scratch,
) -> tuple[int, int, int]:
    """Change of the objective if slot ``s`` of ``record`` went from ``old`` to ``new``.

    Returns (delta, cells losing one, cells gaining one); the cells are in ``removed``
    and ``added``.
    """
    others = work.others
    k = _others(record, s, others)
    max_others = fit.reporting_length - 1
    cells = fit.cells
    n_removed = 0
    if old >= 0:
        n_removed = _affected(
            others,
            k,
            old,
            max_others,
            fit.base,
            fit.table,
            fit.length_weight,
            removed,
            work.unreleased_removed,
            work.subset,
            work.merged,
            work.position,
        )
    n_added = 0
    if new >= 0:
        n_added = _affected(
            others,
            k,
            new,
            max_others,
            fit.base,
            fit.table,
            fit.length_weight,
            added,
            work.unreleased_added,
            work.subset,
            work.merged,
            work.position,
        )
    delta = 0
    if old >= 0:
        delta -= work.unreleased_removed[0]
    if new >= 0:
        delta += work.unreleased_added[0]
    for i in range(n_removed):
        c = removed[i]
        w = np.int64(cells[c, WEIGHT])  # not int(): under numba that changed the fit
        delta += -w if cells[c, SYNTHETIC] > cells[c, TARGET] else w  # type: ignore[assignment]
    for i in range(n_added):
        c = added[i]
        w = np.int64(cells[c, WEIGHT])
        delta += -w if cells[c, SYNTHETIC] < cells[c, TARGET] else w  # type: ignore[assignment]
    absent_now = fit.absent_now
    absent_target = fit.absent_target
    absent_weight = fit.absent_weight
    if old < 0:
        delta += -absent_weight if absent_now[s] > absent_target[s] else absent_weight
    if new < 0:
        delta += -absent_weight if absent_now[s] < absent_target[s] else absent_weight
    return delta, n_removed, n_added


@numba.njit(cache=True, inline="always")
def _apply(
    fit: FitTables,
    removed: np.ndarray,
    n_removed: int,
    added: np.ndarray,
    n_added: int,
    s: int,
    old: int,
    new: int,
    sign: int,
) -> None:
    """Update the counts for slot ``s`` going from ``old`` to ``new`` (sign −1 undoes it)."""
    cells = fit.cells
    for i in range(n_removed):
        cells[removed[i], SYNTHETIC] -= sign
    for i in range(n_added):
        cells[added[i], SYNTHETIC] += sign
    if old < 0:
        fit.absent_now[s] -= sign
    if new < 0:
        fit.absent_now[s] += sign


TAIL_SEARCH = 256
"""A tail swap looks at up to this many random records for its second record and takes
the one that agrees most with the first (see :func:`_records_for_pair`)."""


@numba.njit(cache=True, nogil=True)
def fit_tail(records: np.ndarray, fit: FitTables, tolerance: np.ndarray, moves: int) -> int:
    """Make ``moves`` swap proposals aimed at the released pairs in ``fit.focus`` that are
    further from target than their ``tolerance`` (per cell: that of a pair's cell, +inf
    for every other cell); return how many were taken.

    The main fit aims its swaps at the pairs furthest off in records: a pair of 30
    off by 3 (10%) never ranks among them beside pairs of thousands off by 10, and it
    keeps attributes wherever the later steps (limits, spare records) leave them. The
    tail works on the pairs outside their tolerance, furthest off *relative* to it
    (:func:`_tail_pair`). A swap is taken when it makes neither the objective worse
    nor more pairs leave their tolerance than enter it, and improves one of the two:
    the tail never trades the fit of other counts for these pairs, and it does not
    wander (a swap that costs nothing but moves the gap from one pair to another is
    not taken).
    """
    work = _scratch(records.shape[1], fit.reporting_length)
    net = np.zeros(fit.table.size, dtype=np.int32)
    taken = 0
    if fit.focus.size == 0:
        return 0
    for _ in range(moves):
        pair = _tail_pair(fit, tolerance)
        if pair < 0:
            continue
        r, r2, s = _records_for_pair(records, fit, pair)
        if r >= 0 and _try_tail_exchange(records, fit, tolerance, net, r, r2, s, work):
            taken += 1
    return taken


@numba.njit(cache=True)
def _try_tail_exchange(
    records: np.ndarray,
    fit: FitTables,
    tolerance: np.ndarray,
    net: np.ndarray,
    r: int,
    r2: int,
    s: int,
    work: _Scratch,
) -> bool:
    """Exchange slot ``s`` of records ``r`` and ``r2`` if the tail's rule takes it (see
    :func:`fit_tail`); ``net`` is zeros of the table's size, and left so."""
    old = records[r, s]
    new = records[r2, s]
    delta, n_removed, n_added = _evaluate(
        records[r], s, old, new, fit, work.removed, work.added, work
    )
    _apply(fit, work.removed, n_removed, work.added, n_added, s, old, new, 1)
    records[r, s] = new
    second, n2_removed, n2_added = _evaluate(
        records[r2], s, new, old, fit, work.removed2, work.added2, work
    )
    delta += second
    leaving = 0
    if delta <= 0:
        _apply(fit, work.removed2, n2_removed, work.added2, n2_added, s, new, old, 1)
        records[r2, s] = old
        for i in range(n_removed):
            net[work.removed[i]] -= 1
        for i in range(n_added):
            net[work.added[i]] += 1
        for i in range(n2_removed):
            net[work.removed2[i]] -= 1
        for i in range(n2_added):
            net[work.added2[i]] += 1
        leaving += _leaving(fit.cells, tolerance, net, work.removed, n_removed)
        leaving += _leaving(fit.cells, tolerance, net, work.added, n_added)
        leaving += _leaving(fit.cells, tolerance, net, work.removed2, n2_removed)
        leaving += _leaving(fit.cells, tolerance, net, work.added2, n2_added)
        if leaving <= 0 and (delta < 0 or leaving < 0):
            return True
        _apply(fit, work.removed2, n2_removed, work.added2, n2_added, s, new, old, -1)
        records[r2, s] = new
    _apply(fit, work.removed, n_removed, work.added, n_added, s, old, new, -1)
    records[r, s] = old
    return False


@numba.njit(cache=True, inline="always")
def _leaving(
    cells: np.ndarray, tolerance: np.ndarray, net: np.ndarray, touched: np.ndarray, n: int
) -> int:
    """Of the ``touched`` cells, how many more now lie outside their tolerance than did
    before their ``net`` change (which is reset to 0, so each cell counts once)."""
    out = 0
    for i in range(n):
        c = touched[i]
        change = net[c]
        if change == 0:
            continue
        net[c] = 0
        now = np.int64(cells[c, SYNTHETIC]) - cells[c, TARGET]
        out += (abs(now) > tolerance[c]) - (abs(now - change) > tolerance[c])
    return out


@numba.njit(cache=True, inline="always")
def _tail_pair(fit: FitTables, tolerance: np.ndarray) -> int:
    """Among :data:`SWAP_TRIES` random focus pairs, the one furthest off relative to its
    tolerance; −1 if all of them are within it."""
    best = -1
    worst = 1.0
    for _try in range(SWAP_TRIES):
        i = fit.focus[np.random.randint(fit.focus.size)]
        c = fit.pair_cell[i]
        off = abs(np.int64(fit.cells[c, SYNTHETIC]) - fit.cells[c, TARGET]) / tolerance[c]
        if off > worst:
            worst = off
            best = i
    return best


@numba.njit(cache=True)
def _records_for_pair(records: np.ndarray, fit: FitTables, pair: int) -> tuple[int, int, int]:
    """Two records and a slot whose exchange moves released pair ``pair`` (a, b) toward
    its target, by the rule of :func:`_swap_for_pair`; r = −1 if none was found.

    The exchange of a's slot also moves a's combinations with each record's other
    attributes from one record to the other; those that both records hold are left as
    they are. So of up to :data:`TAIL_SEARCH` records that qualify as the second, the
    one that agrees with the first in the most other slots is taken: its exchange
    disturbs the fewest other counts.
    """
    c = fit.pair_cell[pair]
    gap = np.int64(fit.cells[c, SYNTHETIC]) - fit.cells[c, TARGET]
    if gap == 0:
        return -1, -1, -1
    n, n_slots = records.shape
    flip = np.random.randint(2)
    a = fit.pair_attributes[pair, flip]
    b = fit.pair_attributes[pair, 1 - flip]
    sa = fit.slot_of[a]
    sb = fit.slot_of[b]
    r = -1
    for _search in range(RECORD_SEARCH):
        x = np.random.randint(n)
        if records[x, sa] == a and (records[x, sb] == b) == (gap > 0):
            r = x
            break
    if r < 0:
        return -1, -1, -1
    r2 = -1
    agree_most = -1
    for _search in range(TAIL_SEARCH):
        x = np.random.randint(n)
        if records[x, sa] != a and (records[x, sb] == b) == (gap < 0):
            agree = 0
            for t in range(n_slots):
                if t != sa and t != sb and records[x, t] == records[r, t]:
                    agree += 1
            if agree > agree_most:
                agree_most = agree
                r2 = x
    if r2 < 0:
        return -1, -1, -1
    return r, r2, sa


@numba.njit(cache=True)
def place_short_singles(
    records: np.ndarray, fit: FitTables, order: np.ndarray, max_scan: int
) -> int:
    """Greedily give the single attributes below target to records that can take them.

    For each released single attribute below its target (furthest below, weighted,
    first), records are visited in the order ``order`` (a permutation of the rows,
    continued from one attribute to the next); a record takes the attribute in its slot
    when that makes the objective better (its combinations with the record's other
    attributes included, at the fit's weights), until the attribute reaches its target
    or ``max_scan`` records were looked at. With a heavy fabrication weight this is
    pac-synth's rule: an attribute goes only where every combination it forms was
    released. ``fit.cells`` and ``fit.absent_now`` are updated. Returns how many cells
    were set.
    """
    work = _scratch(records.shape[1], fit.reporting_length)
    start = fit.child_start[fit.n_released]
    stop = fit.child_start[fit.n_released + 1]
    m = stop - start
    short = np.empty(m, dtype=np.int64)
    need = np.empty(m, dtype=np.int64)
    for i in range(m):
        c = fit.child_cell[start + i]
        short[i] = i
        need[i] = (np.int64(fit.cells[c, TARGET]) - fit.cells[c, SYNTHETIC]) * fit.cells[c, WEIGHT]
    ranked = short[np.argsort(-need)]
    n = records.shape[0]
    placed = 0
    cursor = 0
    for i in ranked:
        if need[i] <= 0:
            break
        c = fit.child_cell[start + i]
        a = fit.child_attribute[start + i]
        s = fit.slot_of[a]
        for _ in range(min(max_scan, n)):
            if fit.cells[c, SYNTHETIC] >= fit.cells[c, TARGET]:
                break
            r = order[cursor]
            cursor = cursor + 1 if cursor + 1 < n else 0
            old = records[r, s]
            if old == a:
                continue
            delta, n_removed, n_added = _evaluate(
                records[r], s, old, a, fit, work.removed, work.added, work
            )
            if delta < 0:
                _apply(fit, work.removed, n_removed, work.added, n_added, s, old, a, 1)
                records[r, s] = a
                placed += 1
    return placed
