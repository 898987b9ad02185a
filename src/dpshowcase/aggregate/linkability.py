"""Linkability: which records a combination rarer than the resolution singles out.

Before anything is released a data officer needs to see the risk in the data itself:
a record holding a combination of at most R attributes that fewer than k records hold
can be linked to outside knowledge (someone who knows those few facts about a person
finds few candidates). This module measures, on the exact (sensitive) counts:

- the share of records that hold at least one such rare combination;
- for each attribute and column, how many records it helps single out. Only *minimal*
  rare combinations are blamed (rare, while every shorter sub-combination is not): once
  a single attribute is rare, every combination holding it is rare too, and blaming
  those would name innocent attributes.

The result is sensitive (it is computed from exact counts) and meant for the person
preparing a release, never for publication.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.aggregate.keys import extend_key, pack
from dpshowcase.aggregate.resolution import check_resolution
from dpshowcase.data.encode import SensitiveData
from dpshowcase.progress import Progress

__all__ = ["Linkability", "linkability"]

RECORDS_PER_THREAD = 10_000
"""Records scanned per thread at least (fewer records: one thread)."""


@dataclass(frozen=True)
class Linkability:
    """How many records combinations rarer than ``resolution`` make linkable."""

    records: int
    """Records in the data (subjects, when rows of one subject were merged)."""
    linkable: int
    """Records holding at least one combination of ≤ R attributes with count < k."""
    resolution: int
    """k: combinations held by fewer records than this are rare."""
    reporting_length: int
    """R: the longest combination looked at."""
    column_records: dict[str, int]
    """Per column: records one of whose attributes in that column is part of a minimal
    rare combination (every column of the data, most linkable first)."""
    attribute_records: list[tuple[str, int]]
    """``(column:value, records)`` for attributes in minimal rare combinations, most
    linkable first."""

    @property
    def share(self) -> float:
        """Share of records made linkable, in [0, 1]."""
        return self.linkable / self.records if self.records else 0.0


def linkability(
    data: SensitiveData,
    reporting_length: int = 3,
    resolution: int = 10,
    *,
    progress: Progress | None = None,
) -> Linkability:
    """Measure the records that combinations rarer than ``resolution`` single out."""
    check_resolution(resolution)
    counts = count_combinations(data, reporting_length, progress=progress)
    attributes = data.attributes
    base = attributes.n_attributes + 1
    rare = counts.counts < resolution
    keys = pack(counts.combinations[rare], base)
    keys.sort()
    columns = attributes.columns
    attribute_column = attributes.attribute_column.astype(np.int64)

    def scan(bounds: tuple[int, int]) -> tuple[int, np.ndarray, np.ndarray]:
        return _scan(
            data.indptr,
            data.indices,
            keys,
            base,
            reporting_length,
            attribute_column,
            len(columns),
            bounds[0],
            bounds[1],
        )

    n = data.n_records
    parts = max(1, min(_threads(), n // RECORDS_PER_THREAD))
    ranges = [(n * i // parts, n * (i + 1) // parts) for i in range(parts)]
    with ThreadPoolExecutor(max_workers=parts) as pool:  # the kernel releases the GIL
        results = list(pool.map(scan, ranges))
    linkable = sum(r[0] for r in results)
    per_attribute = np.sum([r[1] for r in results], axis=0)
    per_column = np.sum([r[2] for r in results], axis=0)
    column_records = dict(
        sorted(
            ((name, int(n)) for name, n in zip(columns, per_column.tolist(), strict=True)),
            key=lambda item: -item[1],
        )
    )
    labels = attributes.labels
    order = np.argsort(-per_attribute, kind="stable")
    attribute_records = [
        (labels[int(a)], int(per_attribute[a])) for a in order if per_attribute[a] > 0
    ]
    return Linkability(
        records=data.n_records,
        linkable=int(linkable),
        resolution=resolution,
        reporting_length=reporting_length,
        column_records=column_records,
        attribute_records=attribute_records,
    )


@numba.njit(cache=True, nogil=True)
def _is_rare(keys: np.ndarray, key: np.int64) -> bool:
    i = np.searchsorted(keys, key)
    return bool(i < keys.size and keys[i] == key)


@numba.njit(cache=True, nogil=True)
def _minimal_rare(combo: np.ndarray, k: int, keys: np.ndarray, base: int) -> bool:
    """Whether combo[:k] is rare while none of its (k−1)-subsets is."""
    key = np.int64(0)
    for j in range(k):
        key = extend_key(key, combo[j], base)
    if not _is_rare(keys, key):
        return False
    if k == 1:
        return True
    for drop in range(k):
        sub = np.int64(0)
        for j in range(k):
            if j != drop:
                sub = extend_key(sub, combo[j], base)
        if _is_rare(keys, sub):
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _blamed(
    record: np.ndarray, keys: np.ndarray, base: int, reporting_length: int, flags: np.ndarray
) -> bool:
    """Mark in ``flags`` the positions of ``record`` in a minimal rare combination."""
    m = record.size
    found = False
    combo = np.empty(reporting_length, dtype=np.int64)
    positions = np.empty(reporting_length, dtype=np.int64)
    for k in range(1, min(reporting_length, m) + 1):
        for j in range(k):
            positions[j] = j
        while True:
            for j in range(k):
                combo[j] = record[positions[j]]
            if _minimal_rare(combo, k, keys, base):
                found = True
                for j in range(k):
                    flags[positions[j]] = True
            # next k-subset of positions in lexicographic order
            j = k - 1
            while j >= 0 and positions[j] == m - k + j:
                j -= 1
            if j < 0:
                break
            positions[j] += 1
            for i in range(j + 1, k):
                positions[i] = positions[i - 1] + 1
    return found


@numba.njit(cache=True, nogil=True)
def _scan(
    indptr: np.ndarray,
    indices: np.ndarray,
    keys: np.ndarray,
    base: int,
    reporting_length: int,
    attribute_column: np.ndarray,
    n_columns: int,
    start: int,
    stop: int,
) -> tuple[int, np.ndarray, np.ndarray]:
    """Records start..stop−1: linkable ones, and those each attribute and column blames."""
    per_attribute = np.zeros(attribute_column.size, dtype=np.int64)
    per_column = np.zeros(n_columns, dtype=np.int64)
    linkable = 0
    if keys.size == 0:
        return linkable, per_attribute, per_column
    seen = np.zeros(n_columns, dtype=np.bool_)
    for r in range(start, stop):
        record = indices[indptr[r] : indptr[r + 1]]
        flags = np.zeros(record.size, dtype=np.bool_)
        if not _blamed(record, keys, base, reporting_length, flags):
            continue
        linkable += 1
        seen[:] = False
        for j in range(record.size):
            if flags[j]:
                per_attribute[record[j]] += 1
                seen[attribute_column[record[j]]] = True
        for c in range(n_columns):
            if seen[c]:
                per_column[c] += 1
    return linkable, per_attribute, per_column


def _threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
