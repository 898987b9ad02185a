"""Compiled kernels of the k-anonymity synthesizers (numba).

**Growing records, one attribute at a time** (row-seeded, value-seeded, consolidation).
A synthetic record is a set S of attributes; its next attribute b is drawn among the
candidates with ``|rows(S ∪ b)| ≥ k`` (rows(X): the sensitive records holding all of X),
weighted by that count, as synthetic-data-showcase's ``AttributeRowsSampler`` does.
Every record grows until no candidate qualifies, so the whole record — not only its
combinations of length ≤ R — is held by at least k sensitive records.

The reference computes ``rows(S ∪ b)`` record by record, intersecting sorted row lists
behind an LRU cache. Here records grow *level by level*: all records holding the same
set S (found by a Zobrist hash of S) form one group, ``rows(S)`` is computed once per
group by filtering the rows of the group it came from, and one pass over those rows
counts every extension ``|rows(S ∪ b)|`` for the whole group. Popular sets — and
weighted sampling makes the early sets popular — are thus counted once, not once per
record.

**Unseeded records** are drawn column by column in a random column order (the
reference draws one order per record; here one order is shared by a block of records).
A record's next value is drawn with weight ``|rows(S ∪ v)|`` among the values of the
column with weight ≥ k; absence takes the weight of the empty cells plus that of the
rare values, and then restricts the rows to the empty cells, as in the reference.
Drawing all records of a block at once turns the draws into a walk down a tree whose
nodes partition the rows, so a block costs at most (rows × columns).

Randomness: growth takes its uniform draws from the caller (a numpy Generator), and an
unseeded block seeds numba's generator of its thread itself, so seeded runs repeat
exactly however the work is spread over threads. None of it is privacy noise.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from dpshowcase.aggregate.keys import extend_key


@numba.njit(cache=True, inline="always")
def _holds(indices: np.ndarray, lo: int, hi: int, attribute: int) -> bool:
    """Whether the sorted ids ``indices[lo:hi]`` hold ``attribute`` (binary search)."""
    end = hi
    while lo < hi:
        mid = (lo + hi) >> 1
        if indices[mid] < attribute:
            lo = mid + 1
        else:
            hi = mid
    return lo < end and indices[lo] == attribute


@numba.njit(cache=True, inline="always")
def _draw(weights: np.ndarray, n: int, u: float) -> int:
    """Index in ``[0, n)`` with probability proportional to ``weights``, from a uniform
    ``u`` in [0, 1); -1 if every weight is 0."""
    total = 0.0
    for i in range(n):
        total += weights[i]
    if total <= 0.0:
        return -1
    target = u * total
    acc = 0.0
    for i in range(n):
        acc += weights[i]
        if target < acc:
            return i
    return n - 1


@numba.njit(cache=True, nogil=True)
def _multinomial(n: int, weights: np.ndarray, size: int) -> np.ndarray:
    """Counts of ``n`` draws over ``weights[:size]`` (conditional binomials)."""
    out = np.zeros(size, dtype=np.int64)
    suffix = np.zeros(size + 1, dtype=np.float64)
    for i in range(size - 1, -1, -1):
        suffix[i] = weights[i] + suffix[i + 1]
    left = n
    for i in range(size - 1):
        if left == 0 or suffix[i] <= 0.0:
            break
        p = weights[i] / suffix[i]
        x = left if p >= 1.0 else np.random.binomial(left, p)
        out[i] = x
        left -= x
    out[size - 1] += left
    return out


class Items(NamedTuple):
    """The records being grown, one entry per item (updated in place): the Zobrist
    ``hash`` of its set, the ``set`` itself (padded), its ``length``, the global number of
    the group it was last in (``parent``), its ``last`` pick, and its ``seed`` (a
    sensitive record id, or −1 for an item drawing from the pool)."""

    hash: np.ndarray
    set: np.ndarray
    length: np.ndarray
    parent: np.ndarray
    last: np.ndarray
    seed: np.ndarray


class Level(NamedTuple):
    """The rows of the previous level's groups: group g's rows are
    ``rows[start[g]:stop[g]]``."""

    rows: np.ndarray
    start: np.ndarray
    stop: np.ndarray


class _GroupScratch(NamedTuple):
    """Per-call buffers of :func:`grow_groups`, indexed by attribute id: ``counts[b]`` =
    |rows(S ∪ b)| for the attributes ``touched`` so far (reset after each group),
    ``in_set[a]`` = the stamp of the group whose set holds a; ``candidates``,
    ``cumulative``, ``options`` and ``weights``: the draw tables."""

    counts: np.ndarray
    touched: np.ndarray
    candidates: np.ndarray
    cumulative: np.ndarray
    options: np.ndarray
    weights: np.ndarray
    in_set: np.ndarray


@numba.njit(cache=True, nogil=True)
def grow_groups(
    indptr: np.ndarray,
    indices: np.ndarray,
    resolution: int,
    first_level: bool,
    active: np.ndarray,
    bounds: np.ndarray,
    group_offset: int,
    uniforms: np.ndarray,
    zobrist: np.ndarray,
    items: Items,
    pool: np.ndarray,
    previous: Level,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """Add one attribute to every record of some groups that can take one.

    ``active`` lists record (item) ids sorted by ``items.hash``, so records holding the
    same set are adjacent; group i is ``active[bounds[i]:bounds[i+1]]`` and gets the
    global number ``group_offset + i``. An item with ``items.seed[i] ≥ 0`` draws only
    among the attributes of that sensitive record (row-seeded); otherwise among the
    attributes with ``pool[a] > 0`` (``pool`` has one entry per attribute), taking one
    from the pool (then groups must be run one call at a time). ``uniforms[j]`` is the
    draw of ``active[j]``. ``previous`` holds the rows of the previous level's groups,
    which ``items.parent`` numbers; on the first level every set is empty and every row
    qualifies.

    Returns the rows of these groups (buffer, start, stop — relative to the buffer),
    whether each item grew (aligned with ``bounds[0]:bounds[-1]``), and False if two
    different sets shared a hash (the caller retries with other hashes).
    """
    n_attributes = pool.size
    n_groups = bounds.size - 1
    base = bounds[0]
    grew = np.zeros(bounds[-1] - base, dtype=np.bool_)
    work = _GroupScratch(
        np.zeros(n_attributes, dtype=np.int64),
        np.empty(n_attributes, dtype=np.int64),
        np.empty(n_attributes, dtype=np.int64),
        np.empty(n_attributes, dtype=np.float64),
        np.empty(n_attributes, dtype=np.int64),
        np.empty(n_attributes, dtype=np.float64),
        np.zeros(n_attributes, dtype=np.int64),
    )
    group_start = np.zeros(n_groups, dtype=np.int64)
    group_stop = np.zeros(n_groups, dtype=np.int64)
    rows = np.empty(1024, dtype=np.int32)
    n_rows = 0
    for g in range(n_groups):
        i0 = bounds[g]
        i1 = bounds[g + 1]
        stamp = g + 1
        if not _same_set(active, i0, i1, items, work.in_set, stamp):
            return rows, group_start, group_stop, grew, False
        first = active[i0]
        if first_level:
            lo, hi, b = 0, indptr.size - 1, -1
        else:
            p = items.parent[first]
            lo, hi, b = previous.start[p], previous.stop[p], items.last[first]
        if rows.size < n_rows + hi - lo:
            grown = np.empty(max(n_rows + hi - lo, 2 * rows.size), dtype=np.int32)
            grown[:n_rows] = rows[:n_rows]
            rows = grown
        group_start[g] = n_rows
        n_rows, n_touched = _rows_and_counts(
            indptr, indices, first_level, previous.rows, lo, hi, b, rows, n_rows, work
        )
        group_stop[g] = n_rows
        n_candidates, acc = _pool_candidates(resolution, n_touched, pool, stamp, work)
        for ii in range(i0, i1):
            it = active[ii]
            s = items.seed[it]
            if s >= 0:
                chosen = _draw_seeded(indptr, indices, s, resolution, stamp, uniforms[ii], work)
            else:
                chosen, n_candidates, acc = _draw_from_pool(
                    pool, n_candidates, acc, uniforms[ii], work
                )
                if chosen >= 0:
                    pool[chosen] -= 1
            if chosen < 0:
                continue
            _add(items, it, chosen, zobrist, group_offset + g)
            grew[ii - base] = True
        for t in range(n_touched):
            work.counts[work.touched[t]] = 0
    return rows[:n_rows], group_start, group_stop, grew, True


@numba.njit(cache=True, inline="always")
def _same_set(
    active: np.ndarray, i0: int, i1: int, items: Items, in_set: np.ndarray, stamp: int
) -> bool:
    """Mark the set of the group's first item with ``stamp`` in ``in_set``; whether every
    other item of the group holds the same set (False: two sets shared a hash)."""
    first = active[i0]
    for j in range(items.length[first]):
        in_set[items.set[first, j]] = stamp
    for ii in range(i0 + 1, i1):
        it = active[ii]
        if items.length[it] != items.length[first]:
            return False
        for j in range(items.length[it]):
            if in_set[items.set[it, j]] != stamp:
                return False
    return True


@numba.njit(cache=True, inline="always")
def _rows_and_counts(
    indptr: np.ndarray,
    indices: np.ndarray,
    first_level: bool,
    previous_rows: np.ndarray,
    lo: int,
    hi: int,
    b: int,
    rows: np.ndarray,
    n_rows: int,
    work: _GroupScratch,
) -> tuple[int, int]:
    """rows(S) appended to ``rows`` — every row on the first level, else the parent's rows
    ``previous_rows[lo:hi]`` holding the last pick ``b`` — and |rows(S ∪ a)| for every a
    in ``work.counts``, in one pass. Returns the new row count and the attributes touched."""
    counts = work.counts
    touched = work.touched
    n_touched = 0
    for j in range(lo, hi):
        r = j if first_level else previous_rows[j]
        q0 = indptr[r]
        q1 = indptr[r + 1]
        if b >= 0 and not _holds(indices, q0, q1, b):
            continue
        rows[n_rows] = r
        n_rows += 1
        for q in range(q0, q1):
            a = indices[q]
            if counts[a] == 0:
                touched[n_touched] = a
                n_touched += 1
            counts[a] += 1
    return n_rows, n_touched


@numba.njit(cache=True, inline="always")
def _pool_candidates(
    resolution: int, n_touched: int, pool: np.ndarray, stamp: int, work: _GroupScratch
) -> tuple[int, float]:
    """The group's candidates for pool items (held by ≥ resolution rows with S, not in S,
    left in the pool) and their cumulative weights; returns (how many, total weight).
    Pool items draw from this one table, rebuilt only when a drawn attribute turns out
    to be used up (see :func:`_draw_from_pool`)."""
    n_candidates = 0
    for t in range(n_touched):
        a = work.touched[t]
        if work.counts[a] >= resolution and work.in_set[a] != stamp and pool[a] > 0:
            work.candidates[n_candidates] = a
            n_candidates += 1
    acc = 0.0
    for c in range(n_candidates):
        acc += work.counts[work.candidates[c]]
        work.cumulative[c] = acc
    return n_candidates, acc


@numba.njit(cache=True, inline="always")
def _draw_seeded(
    indptr: np.ndarray,
    indices: np.ndarray,
    seed_record: int,
    resolution: int,
    stamp: int,
    u: float,
    work: _GroupScratch,
) -> int:
    """An attribute of sensitive record ``seed_record`` not in S and held by ≥ resolution
    rows with S, drawn with weight |rows(S ∪ a)| from the uniform ``u``; −1 if none."""
    n_options = 0
    for q in range(indptr[seed_record], indptr[seed_record + 1]):
        a = indices[q]
        if work.counts[a] >= resolution and work.in_set[a] != stamp:
            work.options[n_options] = a
            work.weights[n_options] = work.counts[a]
            n_options += 1
    pick = _draw(work.weights, n_options, u)
    if pick < 0:
        return -1
    return work.options[pick]


@numba.njit(cache=True, inline="always")
def _draw_from_pool(
    pool: np.ndarray, n_candidates: int, acc: float, u: float, work: _GroupScratch
) -> tuple[int, int, float]:
    """A candidate drawn from the cumulative table with the uniform ``u``; if the pool has
    run out of it, the table is rebuilt without the used-up ones and the draw repeated.
    Returns (attribute or −1, candidates left, their total weight)."""
    candidates = work.candidates
    cumulative = work.cumulative
    while n_candidates > 0:
        drawn = min(
            int(np.searchsorted(cumulative[:n_candidates], u * acc, side="right")), n_candidates - 1
        )
        if pool[candidates[drawn]] > 0:
            return candidates[drawn], n_candidates, acc
        kept = 0
        acc = 0.0
        for c in range(n_candidates):
            a = candidates[c]
            if pool[a] > 0:
                candidates[kept] = a
                acc += work.counts[a]
                cumulative[kept] = acc
                kept += 1
        n_candidates = kept
    return -1, n_candidates, acc


@numba.njit(cache=True, inline="always")
def _add(items: Items, it: int, chosen: int, zobrist: np.ndarray, group: int) -> None:
    """Item ``it`` takes attribute ``chosen``; it came from group number ``group``."""
    items.set[it, items.length[it]] = chosen
    items.length[it] += 1
    items.hash[it] ^= zobrist[chosen]
    items.parent[it] = group
    items.last[it] = chosen


@numba.njit(cache=True, nogil=True)
def unseeded_block(
    value_of: np.ndarray,
    slot_attributes: np.ndarray,
    slot_start: np.ndarray,
    order: np.ndarray,
    resolution: int,
    n_out: int,
    block_seed: int,
) -> np.ndarray:
    """``n_out`` unseeded records drawn with one column (slot) order, as attribute ids.

    ``value_of[r, s]`` is the value index of row r in slot s (-1: empty); value v of
    slot s is attribute ``slot_attributes[slot_start[s] + v]``. Returns an
    (n_out, n_slots) array of attribute ids, -1 where a record holds nothing. The
    calling thread's generator is seeded with ``block_seed``.
    """
    np.random.seed(block_seed)
    n_rows, n_slots = value_of.shape
    max_values = 1
    for s in range(n_slots):
        max_values = max(max_values, slot_start[s + 1] - slot_start[s] + 1)
    out = np.full((n_out, n_slots), -1, dtype=np.int32)
    if n_out == 0 or n_slots == 0:
        return out
    rows = np.arange(n_rows).astype(np.int32)
    scratch = np.empty(n_rows, dtype=np.int32)
    child_lo = np.zeros((n_slots, max_values), dtype=np.int64)
    child_hi = np.zeros((n_slots, max_values), dtype=np.int64)
    child_n = np.zeros((n_slots, max_values), dtype=np.int64)
    child_attribute = np.zeros((n_slots, max_values), dtype=np.int64)
    n_children = np.zeros(n_slots, dtype=np.int64)
    cursor = np.zeros(n_slots, dtype=np.int64)
    path = np.full(n_slots, -1, dtype=np.int64)
    value_count = np.zeros(max_values, dtype=np.int64)
    offset = np.zeros(max_values + 1, dtype=np.int64)
    weights = np.zeros(max_values, dtype=np.float64)
    emitted = 0
    # expand (lo, hi, n) at depth d: children of the node in slot order[d]
    lo, hi, n, d = 0, n_rows, n_out, 0
    while True:
        s = order[d]
        n_values = slot_start[s + 1] - slot_start[s]
        empty = n_values
        for v in range(n_values + 1):
            value_count[v] = 0
        for j in range(lo, hi):
            v = value_of[rows[j], s]
            value_count[empty if v < 0 else v] += 1
        # counting sort of the node's rows by value (empty last)
        offset[0] = 0
        for v in range(n_values + 1):
            offset[v + 1] = offset[v] + value_count[v]
        for j in range(lo, hi):
            v = value_of[rows[j], s]
            v = empty if v < 0 else v
            scratch[lo + offset[v]] = rows[j]
            offset[v] += 1
        for j in range(lo, hi):
            rows[j] = scratch[j]
        # values held by fewer than k rows count as absence (their rows follow no child)
        rare = 0
        for v in range(n_values):
            if value_count[v] < resolution:
                weights[v] = 0.0
                rare += value_count[v]
            else:
                weights[v] = value_count[v]
        weights[empty] = value_count[empty] + rare
        if hi == lo:
            weights[empty] = 1.0
        split = _multinomial(n, weights, n_values + 1)
        k = 0
        start = lo
        for v in range(n_values + 1):
            size = value_count[v]
            if split[v] > 0:
                child_lo[d, k] = start
                child_hi[d, k] = start + size
                child_n[d, k] = split[v]
                child_attribute[d, k] = slot_attributes[slot_start[s] + v] if v < empty else -1
                k += 1
            start += size
        n_children[d] = k
        cursor[d] = 0
        # next node: depth-first over the children
        found = False
        while d >= 0:
            if cursor[d] < n_children[d]:
                i = cursor[d]
                cursor[d] += 1
                path[d] = child_attribute[d, i]
                if d + 1 == n_slots:
                    for _ in range(child_n[d, i]):
                        for t in range(n_slots):
                            out[emitted, t] = path[t]
                        emitted += 1
                    continue
                lo, hi, n = child_lo[d, i], child_hi[d, i], child_n[d, i]
                d += 1
                found = True
                break
            d -= 1
        if not found:
            break
    return out


@numba.njit(cache=True)
def unreleased_free(
    indptr: np.ndarray,
    indices: np.ndarray,
    released_keys: np.ndarray,
    base: int,
    reporting_length: int,
) -> np.ndarray:
    """Keep-mask of record entries after dropping attributes until every combination of
    length ≤ R a record holds is in ``released_keys`` (sorted packed keys).

    Each round drops the attribute that takes part in the most unreleased combinations.
    """
    keep = np.ones(indices.size, dtype=np.bool_)
    n_records = indptr.size - 1
    members = np.empty(64, dtype=np.int64)
    positions = np.empty(64, dtype=np.int64)
    bad = np.zeros(64, dtype=np.int64)
    choice = np.zeros(reporting_length, dtype=np.int64)
    for r in range(n_records):
        lo = indptr[r]
        hi = indptr[r + 1]
        while True:
            m = 0
            for q in range(lo, hi):
                if keep[q]:
                    if m == members.size:
                        members = np.concatenate((members, np.empty(m, dtype=np.int64)))
                        positions = np.concatenate((positions, np.empty(m, dtype=np.int64)))
                        bad = np.concatenate((bad, np.empty(m, dtype=np.int64)))
                    members[m] = indices[q]
                    positions[m] = q
                    m += 1
            for i in range(m):
                bad[i] = 0
            any_bad = False
            for length in range(1, min(reporting_length, m) + 1):
                # enumerate the length-subsets of the record's kept attributes
                for j in range(length):
                    choice[j] = j
                while True:
                    key = np.int64(0)
                    for j in range(length):
                        key = extend_key(key, members[choice[j]], base)
                    at = np.searchsorted(released_keys, key)
                    if at >= released_keys.size or released_keys[at] != key:
                        any_bad = True
                        for j in range(length):
                            bad[choice[j]] += 1
                    j = length - 1
                    while j >= 0 and choice[j] == m - length + j:
                        j -= 1
                    if j < 0:
                        break
                    choice[j] += 1
                    for t in range(j + 1, length):
                        choice[t] = choice[t - 1] + 1
            if not any_bad:
                break
            worst = 0
            for i in range(1, m):
                if bad[i] > bad[worst]:
                    worst = i
            keep[positions[worst]] = False
    return keep


@numba.njit(cache=True, inline="always")
def _fits(
    members: np.ndarray,
    m: int,
    attribute: int,
    released_keys: np.ndarray,
    base: int,
    reporting_length: int,
    choice: np.ndarray,
    merged: np.ndarray,
) -> bool:
    """Whether every combination of ≤ R attributes holding ``attribute`` and some of
    ``members[:m]`` is released."""
    for length in range(1, min(reporting_length - 1, m) + 1):
        for j in range(length):
            choice[j] = j
        while True:
            # the subset plus the new attribute, in ascending order
            placed = False
            t = 0
            for j in range(length):
                a = members[choice[j]]
                if not placed and attribute < a:
                    merged[t] = attribute
                    t += 1
                    placed = True
                merged[t] = a
                t += 1
            if not placed:
                merged[t] = attribute
                t += 1
            key = np.int64(0)
            for j in range(t):
                key = extend_key(key, merged[j], base)
            at = np.searchsorted(released_keys, key)
            if at >= released_keys.size or released_keys[at] != key:
                return False
            j = length - 1
            while j >= 0 and choice[j] == m - length + j:
                j -= 1
            if j < 0:
                break
            choice[j] += 1
            for u in range(j + 1, length):
                choice[u] = choice[u - 1] + 1
    return True


@numba.njit(cache=True)
def regroup(
    attributes: np.ndarray,
    released_keys: np.ndarray,
    base: int,
    reporting_length: int,
    window: int,
) -> np.ndarray:
    """Pack loose attributes into new records that hold released combinations only.

    Each attribute joins the most recent of the last ``window`` open records it fits
    (every combination of ≤ R it would form there is released), else opens a new one.
    Returns the record number of each attribute.
    """
    n = attributes.size
    record_of = np.empty(n, dtype=np.int64)
    width = 64
    members = np.empty((max(n, 1), width), dtype=np.int64)
    size = np.zeros(max(n, 1), dtype=np.int64)
    choice = np.zeros(reporting_length, dtype=np.int64)
    merged = np.zeros(reporting_length + 1, dtype=np.int64)
    n_records = 0
    for i in range(n):
        a = attributes[i]
        home = -1
        for r in range(n_records - 1, max(n_records - window, 0) - 1, -1):
            if size[r] >= width:
                continue
            duplicate = False
            for j in range(size[r]):
                if members[r, j] == a:
                    duplicate = True
            if duplicate:
                continue
            row = np.sort(members[r, : size[r]])
            if _fits(row, size[r], a, released_keys, base, reporting_length, choice, merged):
                home = r
                break
        if home < 0:
            home = n_records
            n_records += 1
        members[home, size[home]] = a
        size[home] += 1
        record_of[i] = home
    return record_of


@numba.njit(cache=True, nogil=True)
def sets_held(
    indptr: np.ndarray,
    indices: np.ndarray,
    posting_start: np.ndarray,
    posting_rows: np.ndarray,
    sets: np.ndarray,
    lengths: np.ndarray,
    k: int,
) -> np.ndarray:
    """For each attribute set, whether at least k sensitive records hold all of it.

    ``sets`` rows list attribute ids (padded with -1), each rarest first, the rows in
    lexicographic order: sets sharing a prefix are adjacent, so the records holding a
    prefix — kept per depth, like a walk down a trie — are filtered once for all of them.
    """
    n_sets, width = sets.shape
    n_records = indptr.size - 1
    out = np.zeros(n_sets, dtype=np.bool_)
    rows = np.empty((max(width, 1), max(n_records, 1)), dtype=np.int64)
    size = np.zeros(max(width, 1), dtype=np.int64)
    valid = 0  # depths whose rows hold the previous set's prefix
    for s in range(n_sets):
        m = lengths[s]
        if m == 0:
            out[s] = True
            continue
        common = 0
        if s > 0:
            while (
                common < min(valid, m)
                and common < lengths[s - 1]
                and sets[s, common] == sets[s - 1, common]
            ):
                common += 1
        d = common
        while d < m:
            a = sets[s, d]
            n = 0
            if d == 0:
                for j in range(posting_start[a], posting_start[a + 1]):
                    rows[0, n] = posting_rows[j]
                    n += 1
            else:
                for j in range(size[d - 1]):
                    r = rows[d - 1, j]
                    if _holds(indices, indptr[r], indptr[r + 1], a):
                        rows[d, n] = r
                        n += 1
            size[d] = n
            d += 1
            if n < k:
                break
        valid = d
        out[s] = d == m and size[m - 1] >= k
    return out
