"""Compiled kernels of the counting engine (numba).

A combination of attribute ids ``a1 < a2 < … < ak`` is packed into one int64 key
(:mod:`dpshowcase.aggregate.keys`),
``key = ((a1+1)·B + (a2+1))·B + …`` with ``B = n_attributes + 1``; the leading
non-zero digit makes keys of different lengths distinct, and numeric order of keys is
length first, then lexicographic.

Counting is depth-first over prefixes (as in frequent-itemset mining with projected
databases): the records holding a prefix are kept as (record, next position) entries;
one pass over them counts every one-attribute extension in a dense array of size
``n_attributes`` (hot in cache), and buckets the entries by extension for the next
depth. Every combination occurrence is touched once, and no large hash table is
needed. The outer loop runs over first attributes, so callers split the work into
ranges of first attributes for progress and for threads (the kernel releases the GIL).
"""

from __future__ import annotations

import numba
import numpy as np

from dpshowcase.aggregate.keys import extend_key


@numba.njit(cache=True, nogil=True)
def _grow_2d(buffer: np.ndarray, needed: int) -> np.ndarray:
    if needed <= buffer.shape[1]:
        return buffer
    new_cap = max(needed, buffer.shape[1] * 2)
    out = np.empty((buffer.shape[0], new_cap), dtype=buffer.dtype)
    out[:, : buffer.shape[1]] = buffer
    return out


@numba.njit(cache=True, nogil=True)
def _grow_1d(buffer: np.ndarray, needed: int) -> np.ndarray:
    if needed <= buffer.size:
        return buffer
    out = np.empty(max(needed, buffer.size * 2), dtype=buffer.dtype)
    out[: buffer.size] = buffer
    return out


@numba.njit(cache=True, nogil=True)
def count_extensions(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    occurrence_record: np.ndarray,
    occurrence_next: np.ndarray,
    occurrence_start: np.ndarray,
    first_lo: int,
    first_hi: int,
    n_attributes: int,
    reporting_length: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Packed keys and counts of all combinations of length 2..R whose first attribute
    lies in ``[first_lo, first_hi)``.

    ``occurrence_*`` is the inverted index: for attribute ``a``, entries
    ``occurrence_start[a]:occurrence_start[a+1]`` hold each record containing ``a`` and
    the position (within the record) just after ``a``.

    The combinations starting with ``first`` are walked depth first on a stack kept by
    hand (numba has no recursion worth the name); level ``d`` of the stack is the
    prefix of d attributes ``prefix[d]`` (packed) and:

    - ``entry_record[d, segment_start[d]:segment_stop[d]]``: the records holding the
      prefix, each with ``entry_next[d, ·]``, the position in the record just after the
      prefix's last attribute (records are sorted, so only later attributes extend it);
    - ``extensions[d, :n_extensions[d]]``: the attributes that extend the prefix (found
      when the level is entered, ``fresh``; their counts are written out at once);
    - ``bucket_start/stop[d, i]``: where, in level d+1's rows of ``entry_*``, the records
      holding prefix + ``extensions[d, i]`` were placed (a counting sort by attribute);
    - ``cursor[d]``: the next extension to descend into.

    Descending into extension i makes its bucket level d+1's segment; a level whose
    cursor has passed its last extension (or at depth R−1, whose extensions are only
    counted) pops back to d−1. Level d+1's rows are rebuilt each time level d is
    entered, so each level's rows are only valid while that level is on the stack.
    """
    R = reporting_length  # noqa: N806 (the domain writes the reporting length R)
    base = n_attributes + 1
    cap = 1024
    entry_record = np.empty((R, cap), dtype=np.int32)
    entry_next = np.empty((R, cap), dtype=np.int32)
    segment_start = np.zeros(R, dtype=np.int64)
    segment_stop = np.zeros(R, dtype=np.int64)
    extensions = np.empty((R, n_attributes), dtype=np.int32)
    bucket_start = np.empty((R, n_attributes), dtype=np.int64)
    bucket_stop = np.empty((R, n_attributes), dtype=np.int64)
    n_extensions = np.zeros(R, dtype=np.int64)
    cursor = np.zeros(R, dtype=np.int64)
    prefix = np.zeros(R + 1, dtype=np.int64)
    occurrences = np.zeros(n_attributes, dtype=np.int64)
    weighted = np.zeros(n_attributes, dtype=np.int64)
    fill = np.zeros(n_attributes, dtype=np.int64)
    out_keys = np.empty(1024, dtype=np.int64)
    out_counts = np.empty(1024, dtype=np.int64)
    n_out = 0
    for first in range(first_lo, first_hi):
        s = occurrence_start[first]
        e = occurrence_start[first + 1]
        if e == s or R < 2:
            continue
        entry_record = _grow_2d(entry_record, e - s)
        entry_next = _grow_2d(entry_next, e - s)
        for i in range(e - s):
            entry_record[1, i] = occurrence_record[s + i]
            entry_next[1, i] = occurrence_next[s + i]
        segment_start[1] = 0
        segment_stop[1] = e - s
        prefix[1] = first + 1
        d = 1
        fresh = True
        while d >= 1:
            if fresh:
                k = 0
                for j in range(segment_start[d], segment_stop[d]):
                    r = entry_record[d, j]
                    lo = indptr[r]
                    w = weights[r]
                    for q in range(lo + entry_next[d, j], indptr[r + 1]):
                        a = indices[q]
                        if occurrences[a] == 0:
                            extensions[d, k] = a
                            k += 1
                        occurrences[a] += 1
                        weighted[a] += w
                out_keys = _grow_1d(out_keys, n_out + k)
                out_counts = _grow_1d(out_counts, n_out + k)
                for i in range(k):
                    a = extensions[d, i]
                    out_keys[n_out] = extend_key(prefix[d], a, base)
                    out_counts[n_out] = weighted[a]
                    n_out += 1
                    weighted[a] = 0
                if d + 1 < R:
                    total = 0
                    for i in range(k):
                        a = extensions[d, i]
                        bucket_start[d, i] = total
                        fill[a] = total
                        total += occurrences[a]
                    entry_record = _grow_2d(entry_record, total)
                    entry_next = _grow_2d(entry_next, total)
                    for j in range(segment_start[d], segment_stop[d]):
                        r = entry_record[d, j]
                        lo = indptr[r]
                        hi = indptr[r + 1]
                        for q in range(lo + entry_next[d, j], hi - 1):
                            a = indices[q]
                            slot = fill[a]
                            entry_record[d + 1, slot] = r
                            entry_next[d + 1, slot] = q + 1 - lo
                            fill[a] = slot + 1
                    for i in range(k):
                        bucket_stop[d, i] = fill[extensions[d, i]]
                for i in range(k):
                    occurrences[extensions[d, i]] = 0
                n_extensions[d] = k
                cursor[d] = 0
                fresh = False
            if d + 1 < R and cursor[d] < n_extensions[d]:
                i = cursor[d]
                cursor[d] += 1
                if bucket_stop[d, i] > bucket_start[d, i]:
                    segment_start[d + 1] = bucket_start[d, i]
                    segment_stop[d + 1] = bucket_stop[d, i]
                    prefix[d + 1] = extend_key(prefix[d], extensions[d, i], base)
                    d += 1
                    fresh = True
            else:
                d -= 1
    return out_keys[:n_out], out_counts[:n_out]


@numba.njit(cache=True)
def unpack_keys(
    keys: np.ndarray, base: int, reporting_length: int
) -> tuple[np.ndarray, np.ndarray]:
    """Attribute ids (padded with -1 on the right) and length of each packed key."""
    n = keys.size
    out = np.full((n, reporting_length), -1, dtype=np.int32)
    lengths = np.zeros(n, dtype=np.int8)
    digits = np.empty(reporting_length, dtype=np.int64)
    for i in range(n):
        k = keys[i]
        length = 0
        while k > 0:
            digits[length] = k % base - 1
            k //= base
            length += 1
        for j in range(length):
            out[i, j] = digits[length - 1 - j]
        lengths[i] = length
    return out, lengths
