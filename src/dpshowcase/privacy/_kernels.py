"""Compiled kernels of the DP-marginals mechanism (numba).

Combinations are packed int64 keys as in :mod:`dpshowcase.aggregate._kernels`
(``key = ((a1+1)·B + (a2+1))·B + …``), so sorted key arrays answer membership by
binary search. None of these kernels draws DP noise: that is :mod:`.noise`'s job. The
only randomness here chooses which of a record's combinations it contributes when it
has more than the allowed sensitivity; any choice keeps the sensitivity bound, so this
randomness does not enter the privacy proof. It is drawn per record from a hash of
(seed, record), so the counts are the same however the records are split between
threads.
"""

from __future__ import annotations

import numba
import numpy as np

from dpshowcase.aggregate.keys import extend_key

CHUNKS_PER_THREAD = 2
"""Records are split into this many chunks per thread (uneven records balance out)."""


@numba.njit(cache=True, inline="always")
def _splitmix(state: np.uint64) -> tuple[np.uint64, np.uint64]:
    """One step of splitmix64: (next state, 64 random bits)."""
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def _chunk(n: int, chunks: int, c: int) -> tuple[int, int]:
    return n * c // chunks, n * (c + 1) // chunks


@numba.njit(cache=True, inline="always")
def _contains(sorted_keys: np.ndarray, key: int) -> bool:
    i = np.searchsorted(sorted_keys, key)
    return bool(i < sorted_keys.size and sorted_keys[i] == key)


@numba.njit(cache=True)
def extend_candidates(
    survivors: np.ndarray,
    survivor_keys: np.ndarray,
    groups: np.ndarray,
    base: int,
) -> np.ndarray:
    """Candidates of length k from the survivors of length k−1 (apriori join).

    ``survivors`` is an int32 array (n, k−1) of sorted attribute ids, rows in
    lexicographic order; ``survivor_keys`` their packed keys, sorted. A candidate joins
    two survivors sharing their first k−2 attributes, needs its last two attributes in
    different groups (one group per single-valued column), and every (k−1)-subset of it
    must have survived. Returns an int32 array (m, k) in lexicographic order.
    """
    n, km1 = survivors.shape
    k = km1 + 1
    cap = 1024
    out = np.empty((cap, k), dtype=np.int32)
    m = 0
    start = 0
    while start < n:
        stop = start + 1
        while stop < n:
            same = True
            for j in range(km1 - 1):
                if survivors[stop, j] != survivors[start, j]:
                    same = False
                    break
            if not same:
                break
            stop += 1
        for i in range(start, stop):
            a = survivors[i, km1 - 1]
            for i2 in range(i + 1, stop):
                b = survivors[i2, km1 - 1]
                if groups[a] == groups[b]:
                    continue
                ok = True
                # every (k-1)-subset that drops one of the first k-2 attributes
                for drop in range(km1 - 1):
                    key = np.int64(0)
                    for j in range(km1):
                        if j != drop:
                            key = extend_key(key, survivors[i, j], base)
                    key = extend_key(key, b, base)
                    if not _contains(survivor_keys, key):
                        ok = False
                        break
                if not ok:
                    continue
                if m >= cap:
                    bigger = np.empty((cap * 2, k), dtype=np.int32)
                    bigger[:cap] = out
                    out = bigger
                    cap *= 2
                for j in range(km1):
                    out[m, j] = survivors[i, j]
                out[m, km1] = b
                m += 1
        start = stop
    return out[:m]


@numba.njit(cache=True)
def _record_candidates(
    indptr: np.ndarray,
    indices: np.ndarray,
    r: int,
    k: int,
    base: int,
    prefix_keys: np.ndarray,
    candidate_keys: np.ndarray,
    buffer: np.ndarray,
    position: np.ndarray,
    prefix: np.ndarray,
) -> int:
    """Write the candidate indices of record ``r`` into ``buffer``; return how many.

    Depth-first over the record's attributes; a prefix is extended only if it survived
    (it must, as a subset of any candidate), which prunes most of the search.
    """
    lo = indptr[r]
    m = indptr[r + 1] - lo
    found = 0
    if m < k:
        return 0
    depth = 0
    position[0] = 0
    prefix[0] = 0
    while depth >= 0:
        p = position[depth]
        if p >= m:
            depth -= 1
            if depth >= 0:
                position[depth] += 1
            continue
        key = extend_key(prefix[depth], indices[lo + p], base)
        if depth + 1 == k:
            i = np.searchsorted(candidate_keys, key)
            if i < candidate_keys.size and candidate_keys[i] == key:
                buffer[found] = i
                found += 1
            position[depth] += 1
        elif _contains(prefix_keys, key):
            prefix[depth + 1] = key
            depth += 1
            position[depth] = p + 1
        else:
            position[depth] += 1
    return found


@numba.njit(cache=True, parallel=True)
def candidates_per_record(
    indptr: np.ndarray,
    indices: np.ndarray,
    k: int,
    base: int,
    prefix_keys: np.ndarray,
    candidate_keys: np.ndarray,
    max_per_record: int,
    chunks: int,
) -> np.ndarray:
    """How many candidates of length k each record holds (records in ``chunks`` parts)."""
    n = indptr.size - 1
    out = np.zeros(n, dtype=np.int64)
    for c in numba.prange(chunks):
        buffer = np.empty(max_per_record + 1, dtype=np.int64)
        position = np.empty(k, dtype=np.int64)
        prefix = np.empty(k + 1, dtype=np.int64)
        lo, hi = _chunk(n, chunks, c)
        for r in range(lo, hi):
            out[r] = _record_candidates(
                indptr, indices, r, k, base, prefix_keys, candidate_keys, buffer, position, prefix
            )
    return out


@numba.njit(cache=True, parallel=True)
def bounded_counts(
    indptr: np.ndarray,
    indices: np.ndarray,
    k: int,
    base: int,
    prefix_keys: np.ndarray,
    candidate_keys: np.ndarray,
    max_per_record: int,
    sensitivity: int,
    seed: int,
    chunks: int,
) -> np.ndarray:
    """Count candidates, each record contributing to at most ``sensitivity`` of them.

    A record holding more keeps a uniformly random subset of that size (drawn from
    ``seed`` and the record's index). Records are counted in ``chunks`` parts.
    """
    n = indptr.size - 1
    partial = np.zeros((chunks, candidate_keys.size), dtype=np.int32)
    for c in numba.prange(chunks):
        buffer = np.empty(max_per_record + 1, dtype=np.int64)
        position = np.empty(k, dtype=np.int64)
        prefix = np.empty(k + 1, dtype=np.int64)
        lo, hi = _chunk(n, chunks, c)
        for r in range(lo, hi):
            found = _record_candidates(
                indptr, indices, r, k, base, prefix_keys, candidate_keys, buffer, position, prefix
            )
            if found > sensitivity:
                state = np.uint64(seed) * np.uint64(0x100000001B3) + np.uint64(r)
                for i in range(sensitivity):
                    state, bits = _splitmix(state)
                    j = i + np.int64(bits % np.uint64(found - i))
                    buffer[i], buffer[j] = buffer[j], buffer[i]
                found = sensitivity
            for i in range(found):
                partial[c, buffer[i]] += 1
    return partial.sum(axis=0).astype(np.int64)


@numba.njit(cache=True)
def normalise(
    combinations: np.ndarray, lengths: np.ndarray, counts: np.ndarray, keys: np.ndarray, base: int
) -> np.ndarray:
    """Counts lowered so no combination reports more than any of its sub-combinations.

    Rows must be sorted by key (hence by length); every (k−1)-subset of a released
    combination is itself released.
    """
    out = counts.copy()
    n = keys.size
    for i in range(n):
        k = lengths[i]
        if k < 2:
            continue
        best = out[i]
        for drop in range(k):
            key = np.int64(0)
            for j in range(k):
                if j != drop:
                    key = extend_key(key, combinations[i, j], base)
            s = np.searchsorted(keys, key)
            if s < n and keys[s] == key and out[s] < best:
                best = out[s]
        out[i] = best
    return out
