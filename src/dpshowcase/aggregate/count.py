"""Exact counts of every attribute combination up to the reporting length.

This is the hot path of dpshowcase: every release starts from these counts. A record
holding ``m`` attributes yields ``C(m, k)`` combinations of length ``k``; all of them,
for ``k = 1..R``, are counted in one compiled pass over the records.
"""

from __future__ import annotations

import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from dpshowcase.aggregate import _kernels
from dpshowcase.data.attributes import AttributeIndex
from dpshowcase.data.encode import EncodedRecords
from dpshowcase.errors import ParameterError
from dpshowcase.progress import Progress

COUNTING = "Counting combinations"
"""The stage counting reports (as records done of records in all)."""

_N_RANGES = 64
MAX_REPORTING_LENGTH = 10


@dataclass(frozen=True, eq=False)
class CombinationCounts:
    """Counts of attribute combinations, one row per combination.

    ``combinations[i, :lengths[i]]`` are the sorted attribute ids of combination ``i``
    (padded with -1); rows are ordered by length, then by attribute ids.
    """

    attributes: AttributeIndex
    combinations: np.ndarray
    lengths: np.ndarray
    counts: np.ndarray
    reporting_length: int

    def __len__(self) -> int:
        return int(self.counts.size)

    def of_length(self, k: int) -> np.ndarray:
        """Boolean mask of the combinations of length ``k``."""
        return self.lengths == k

    def labels(self) -> pl.Series:
        """``column:value;column:value`` for every combination."""
        labels = pl.Series((*self.attributes.labels, ""), dtype=pl.String)
        parts = []
        for j in range(self.reporting_length):
            ids = self.combinations[:, j].astype(np.int64)
            ids[ids < 0] = len(labels) - 1
            parts.append(labels.gather(ids).replace("", None))
        return pl.select(
            pl.concat_str(parts, separator=";", ignore_nulls=True).alias("combination")
        ).to_series()

    def to_frame(self) -> pl.DataFrame:
        """The table ``combination, length, count``."""
        return pl.DataFrame(
            {
                "combination": self.labels(),
                "length": pl.Series(self.lengths, dtype=pl.Int64),
                "count": pl.Series(self.counts, dtype=pl.Int64),
            }
        )

    def filter(self, keep: np.ndarray) -> CombinationCounts:
        """Only the rows where ``keep`` is true."""
        return CombinationCounts(
            attributes=self.attributes,
            combinations=self.combinations[keep],
            lengths=self.lengths[keep],
            counts=self.counts[keep],
            reporting_length=self.reporting_length,
        )

    def with_counts(self, counts: np.ndarray) -> CombinationCounts:
        """The same combinations with other counts."""
        return CombinationCounts(
            attributes=self.attributes,
            combinations=self.combinations,
            lengths=self.lengths,
            counts=np.asarray(counts, dtype=np.int64),
            reporting_length=self.reporting_length,
        )

    def as_dict(self) -> dict[tuple[int, ...], int]:
        """``{attribute-id tuple: count}``; convenient for small tables and tests."""
        return {
            tuple(int(a) for a in row[:length]): int(c)
            for row, length, c in zip(self.combinations, self.lengths, self.counts, strict=True)
        }


def check_reporting_length(reporting_length: int, n_columns: int | None = None) -> None:
    """Refuse reporting lengths a release cannot have."""
    if not isinstance(reporting_length, int) or reporting_length < 1:
        raise ParameterError(
            f"The reporting length must be a whole number of at least 1, not {reporting_length!r}."
        )
    if reporting_length > MAX_REPORTING_LENGTH:
        raise ParameterError(
            f"A reporting length of {reporting_length} is beyond what can be counted or "
            f"protected usefully; use at most {MAX_REPORTING_LENGTH} (3 or 4 is usual)."
        )
    if n_columns is not None and reporting_length > n_columns:
        raise ParameterError(
            f"The reporting length {reporting_length} is more than the {n_columns} columns in "
            "the schema; a combination takes each column at most once."
        )


def count_combinations(
    data: EncodedRecords,
    reporting_length: int = 3,
    *,
    progress: Progress | None = None,
) -> CombinationCounts:
    """Count every combination of 1..R attributes that occurs in ``data``."""
    check_reporting_length(reporting_length)
    weights = np.ones(data.n_records, dtype=np.int64)
    return _count(data.attributes, data.indptr, data.indices, weights, reporting_length, progress)


def _count(
    attributes: AttributeIndex,
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    reporting_length: int,
    progress: Progress | None,
) -> CombinationCounts:
    keys, counts = _count_keys(
        indptr, indices, weights, attributes.n_attributes, reporting_length, progress
    )
    combinations, lengths = _kernels.unpack_keys(
        keys, attributes.n_attributes + 1, reporting_length
    )
    return CombinationCounts(
        attributes=attributes,
        combinations=combinations,
        lengths=lengths,
        counts=counts,
        reporting_length=reporting_length,
    )


def count_attribute_combinations(
    indptr: np.ndarray, indices: np.ndarray, n_attributes: int, reporting_length: int
) -> tuple[np.ndarray, np.ndarray]:
    """Packed keys (sorted) and counts of every combination of 1..R attributes in records
    given as sorted attribute-id lists (CSR). For public records, e.g. synthetic ones."""
    weights = np.ones(indptr.size - 1, dtype=np.int64)
    return _count_keys(indptr, indices, weights, n_attributes, reporting_length, None)


def _count_keys(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    n_attributes: int,
    reporting_length: int,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray]:
    base = n_attributes + 1
    if reporting_length * math.log2(base) >= 62:
        raise ParameterError(
            f"{n_attributes:,} attributes at reporting length {reporting_length} are too many "
            "to count; lower the reporting length or bin the columns with many values."
        )
    record_of = np.repeat(np.arange(indptr.size - 1, dtype=np.int32), np.diff(indptr))
    order = np.argsort(indices, kind="stable")
    occurrence_record = record_of[order]
    occurrence_next = (order - indptr[record_of[order]] + 1).astype(np.int32)
    per_attribute = np.bincount(indices, minlength=n_attributes)
    occurrence_start = np.zeros(n_attributes + 1, dtype=np.int64)
    np.cumsum(per_attribute, out=occurrence_start[1:])
    singles = np.bincount(indices, weights=weights[record_of], minlength=n_attributes)

    # work for a first attribute grows with the attributes that follow it in its records
    work = np.bincount(
        indices, weights=(indptr[record_of + 1] - order - 1.0), minlength=n_attributes
    )
    ranges = _split_work(work, _N_RANGES)
    key_parts = [np.flatnonzero(singles) + 1]
    count_parts = [singles[singles > 0].astype(np.int64)]
    total_work = float(work.sum()) or 1.0
    done = 0.0

    def run(bounds: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        return _kernels.count_extensions(
            indptr,
            indices,
            weights,
            occurrence_record,
            occurrence_next,
            occurrence_start,
            bounds[0],
            bounds[1],
            n_attributes,
            reporting_length,
        )

    if reporting_length >= 2:
        with ThreadPoolExecutor(max_workers=_threads()) as pool:
            for bounds, (keys, counts) in zip(ranges, pool.map(run, ranges), strict=True):
                key_parts.append(keys)
                count_parts.append(counts)
                done += float(work[bounds[0] : bounds[1]].sum())
                if progress is not None:
                    progress(COUNTING, round(done), round(total_work))
    keys = np.concatenate(key_parts)
    counts = np.concatenate(count_parts)
    sort = np.argsort(keys)
    return keys[sort], counts[sort]


def _split_work(work: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """Contiguous ranges of first attributes with about equal work each."""
    if work.size == 0:
        return []
    cumulative = np.cumsum(work)
    total = cumulative[-1]
    cuts = np.searchsorted(cumulative, np.linspace(0, total, parts + 1)[1:-1], side="right")
    edges = np.unique(np.concatenate([[0], cuts, [work.size]]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def _threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
