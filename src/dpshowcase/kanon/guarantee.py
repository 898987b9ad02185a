"""The check every k-anonymous release must pass before anything is written.

The guarantee is checked against the exact sensitive counts, not assumed from the
algorithm:

1. every released count is at least k, a multiple of k, and the exact count of its
   combination rounded down to a multiple of k;
2. the synthetic records, read back from the very table that will be written, hold
   only known attributes, and every combination of length ≤ R they hold is held by at
   least k sensitive records;
3. for the modes that promise it, each synthetic record as a whole is held by at least
   k sensitive records.

A failure raises :class:`~dpshowcase.errors.GuaranteeError`: the release is a bug, and
nothing may be published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from dpshowcase.aggregate.count import CombinationCounts, count_combinations
from dpshowcase.aggregate.keys import pack
from dpshowcase.aggregate.protected import ProtectedAggregates
from dpshowcase.data.encode import SensitiveData
from dpshowcase.errors import GuaranteeError
from dpshowcase.kanon import _kernels
from dpshowcase.kanon.records import Records, index_map
from dpshowcase.schema.model import Schema


@dataclass(frozen=True, eq=False)
class GuaranteeCheck:
    """What the check of a k-anonymous release examined (all of it passed)."""

    k: int
    reporting_length: int
    released_combinations: int
    """Released counts checked."""
    synthetic_records: int
    """Rows of the synthetic table checked."""
    synthetic_combinations: dict[int, int]
    """Distinct combinations of each length found in the synthetic records (all checked)."""
    synthetic_counts: CombinationCounts
    """Their synthetic counts, over the sensitive data's attribute index."""
    whole_records: int = 0
    """Distinct synthetic records checked to be held, as a whole, by ≥ k records (0: not
    checked)."""

    def as_dict(self) -> dict[str, Any]:
        """For parameters.json."""
        return {
            "passed": True,
            "released_counts_checked": self.released_combinations,
            "synthetic_records_checked": self.synthetic_records,
            "synthetic_combinations_checked": {
                str(k): n for k, n in self.synthetic_combinations.items()
            },
            "distinct_whole_records_checked": self.whole_records,
        }


def lookup(sorted_keys: np.ndarray, sorted_counts: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The count of each key in a sorted key table (0 where the table lacks it)."""
    if sorted_keys.size == 0:
        return np.zeros(keys.size, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return np.where(sorted_keys[at] == keys, sorted_counts[at], 0).astype(np.int64)


def check_k_anonymity(
    aggregates: ProtectedAggregates,
    synthetic: pl.DataFrame,
    exact: CombinationCounts,
    k: int,
    *,
    sensitive: SensitiveData | None = None,
) -> GuaranteeCheck:
    """Check a k-anonymous release against the exact counts; raise GuaranteeError if it fails.

    With ``sensitive`` (the records ``exact`` was counted from), also check that every
    synthetic record as a whole is held by at least k sensitive records.
    """
    if aggregates.mode != "k-anonymity":
        raise GuaranteeError(
            f"A k-anonymity check was asked of {aggregates.mode!r} aggregates; nothing was written."
        )
    if aggregates.reporting_length > exact.reporting_length:
        raise GuaranteeError(
            f"The release has combinations of up to {aggregates.reporting_length} attributes "
            f"but the exact counts only go to {exact.reporting_length}; nothing was written."
        )
    base = exact.attributes.n_attributes + 1
    exact_keys = pack(exact.combinations, base)
    order = np.argsort(exact_keys)
    exact_keys = exact_keys[order]
    exact_counts = exact.counts[order]
    _check_released(aggregates, exact, exact_keys, exact_counts, base, k)
    records, unknown = Records.from_frame(synthetic, exact.attributes)
    if unknown:
        (column, value), n = unknown.most_common(1)[0]
        raise GuaranteeError(
            f"The synthetic records hold {sum(unknown.values()):,} value(s) absent from the "
            f"sensitive data (e.g. {column}:{value} in {n:,} rows), which describe fewer "
            f"than k = {k} records; nothing was written. This is a bug in dpshowcase."
        )
    schema = Schema.all_categorical(list(exact.attributes.columns))
    counts = count_combinations(records.as_data(schema), aggregates.reporting_length)
    holders = lookup(exact_keys, exact_counts, pack(counts.combinations, base))
    bad = np.flatnonzero(holders < k)
    if bad.size:
        example = exact.attributes.combination_label(
            counts.combinations[bad[0], : counts.lengths[bad[0]]].tolist()
        )
        raise GuaranteeError(
            f"{bad.size:,} combination(s) in the synthetic records describe fewer than k = {k} "
            f"records of the sensitive data (e.g. {example}); the release failed its "
            "k-anonymity check and nothing was written. This is a bug in dpshowcase."
        )
    whole = 0
    if sensitive is not None:
        whole = _check_whole_records(records, sensitive, k)
    return GuaranteeCheck(
        k=k,
        whole_records=whole,
        reporting_length=aggregates.reporting_length,
        released_combinations=len(aggregates.counts),
        synthetic_records=records.n_records,
        synthetic_combinations={
            length: int((counts.lengths == length).sum())
            for length in range(1, aggregates.reporting_length + 1)
        },
        synthetic_counts=counts,
    )


def _check_released(
    aggregates: ProtectedAggregates,
    exact: CombinationCounts,
    exact_keys: np.ndarray,
    exact_counts: np.ndarray,
    base: int,
    k: int,
) -> None:
    released = aggregates.counts
    counts = released.counts.astype(np.int64)
    if np.any(counts < k) or np.any(counts % k):
        raise GuaranteeError(
            f"A released count is below k = {k} or not a multiple of it; the release failed "
            "its k-anonymity check and nothing was written. This is a bug in dpshowcase."
        )
    to_exact = index_map(released.attributes, exact.attributes)
    ids = released.combinations.astype(np.int64)
    mapped = np.where(ids >= 0, to_exact[np.maximum(ids, 0)], -1)
    if np.any((ids >= 0) & (mapped < 0)):
        raise GuaranteeError(
            "A released attribute does not occur in the sensitive data; the release failed its "
            "k-anonymity check and nothing was written. This is a bug in dpshowcase."
        )
    mapped = np.sort(np.where(mapped >= 0, mapped, np.iinfo(np.int64).max), axis=1)
    mapped = np.where(mapped == np.iinfo(np.int64).max, -1, mapped)
    truth = lookup(exact_keys, exact_counts, pack(mapped, base))
    wrong = (truth < k) | (counts > truth) | (truth - counts >= k)
    if np.any(wrong):
        i = int(np.flatnonzero(wrong)[0])
        label = released.attributes.combination_label(
            released.combinations[i, : released.lengths[i]].tolist()
        )
        raise GuaranteeError(
            f"The released count of {label} is not its exact count rounded down to a multiple "
            f"of k = {k}, or describes fewer than k records; the release failed its "
            "k-anonymity check and nothing was written. This is a bug in dpshowcase."
        )


def _check_whole_records(records: Records, sensitive: SensitiveData, k: int) -> int:
    """Check every distinct synthetic record is held as a whole by ≥ k sensitive records;
    return how many distinct records were checked."""
    lengths = records.record_lengths()
    width = int(lengths.max()) if lengths.size else 0
    if width == 0:
        return 0
    n_attributes = sensitive.attributes.n_attributes
    frequency = np.bincount(sensitive.indices, minlength=n_attributes)
    rank = np.empty(n_attributes, dtype=np.int64)
    rank[np.lexsort((np.arange(n_attributes), frequency))] = np.arange(n_attributes)
    # each record's attributes rarest first (as ranks; padding sorts last)
    padded = np.full((records.n_records, width), np.iinfo(np.int64).max, dtype=np.int64)
    held = np.arange(width)[None, :] < lengths[:, None]
    padded[held] = rank[records.indices]
    distinct = np.unique(np.sort(padded, axis=1), axis=0)
    set_lengths = (distinct != np.iinfo(np.int64).max).sum(axis=1)
    by_rank = np.argsort(rank)
    sets = np.where(
        distinct == np.iinfo(np.int64).max, -1, by_rank[np.minimum(distinct, n_attributes - 1)]
    )
    posting_rows = np.repeat(
        np.arange(sensitive.n_records, dtype=np.int64), sensitive.record_lengths()
    )[np.argsort(sensitive.indices, kind="stable")]
    posting_start = np.zeros(n_attributes + 1, dtype=np.int64)
    np.cumsum(np.bincount(sensitive.indices, minlength=n_attributes), out=posting_start[1:])
    ok = _kernels.sets_held(
        sensitive.indptr,
        sensitive.indices,
        posting_start,
        posting_rows,
        sets,
        set_lengths,
        k,
    )
    bad = np.flatnonzero(~ok)
    if bad.size:
        example = sensitive.attributes.combination_label(
            sets[bad[0], : set_lengths[bad[0]]].tolist()
        )
        raise GuaranteeError(
            f"{bad.size:,} synthetic record(s) are held as a whole by fewer than k = {k} "
            f"sensitive records (e.g. {example}); the release failed its k-anonymity check "
            "and nothing was written. This is a bug in dpshowcase."
        )
    return int(distinct.shape[0])
