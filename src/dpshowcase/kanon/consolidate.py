"""Bringing synthetic attribute counts to the released (rounded) counts.

As in synthetic-data-showcase, the counts of single attributes in k-anonymous synthetic
data are made equal to the released ones, ``round_down(count, k)``, in two steps:

- **consolidation** adds what is missing: the attributes still owed form a pool, and
  new records are grown from it, each attribute drawn only if the record's whole set
  stays held by at least k sensitive records (weighted by how many hold it);
- **suppression** removes what is in excess: randomly chosen occurrences of each
  attribute with more synthetic than released records are deleted, and records left
  empty are dropped.

Neither step can break the guarantee: consolidated records obey the same rule as all
others, and deleting attributes from a record only leaves sets held by more records.
"""

from __future__ import annotations

import numpy as np

from dpshowcase.aggregate.resolution import round_down
from dpshowcase.data.encode import SensitiveData
from dpshowcase.kanon._growth import grow
from dpshowcase.kanon.records import Records, without_empty
from dpshowcase.progress import Progress

_CONSOLIDATING = "Synthesizing: consolidating"
_SUPPRESSING = "Synthesizing: suppressing"

_MAX_ROUNDS = 10_000


def attribute_targets(data: SensitiveData, k: int) -> np.ndarray:
    """The released count of each attribute: rounded down to k, 0 below k."""
    counts = np.bincount(data.indices, minlength=data.attributes.n_attributes)
    return round_down(counts, k)


def consolidate(
    data: SensitiveData,
    k: int,
    records: Records,
    targets: np.ndarray,
    rng: np.random.Generator,
    progress: Progress | None = None,
) -> Records:
    """``records`` followed by new records made of the attribute occurrences still owed.

    Records are grown in rounds, as many at a time as the pool should fill at the
    length the previous round reached.
    """
    pool = np.maximum(targets - records.attribute_counts(), 0).astype(np.int64)
    total = int(pool.sum())
    length = max(float(data.record_lengths().mean()) if data.n_records else 1.0, 1.0)
    parts_indptr = [records.indptr]
    parts_indices = [records.indices]
    offset = int(records.indptr[-1])
    rounds = 0
    while pool.sum() > 0 and rounds < _MAX_ROUNDS:
        left = int(pool.sum())
        n_new = max(1, int(np.ceil(left / length)))
        grown = [grow(data, k, pool=pool, n_items=n_new, rng=rng)]
        taken = left - int(pool.sum())
        made = 0
        for indptr, indices in grown:
            parts_indptr.append(indptr[1:] + offset)
            parts_indices.append(indices)
            offset += int(indptr[-1])
            made += int((np.diff(indptr) > 0).sum())
        length = max(taken / max(made, 1), 1.0)
        rounds += 1
        if progress is not None:
            progress(_CONSOLIDATING, total - int(pool.sum()), total)
    combined = Records(
        attributes=records.attributes,
        indptr=np.concatenate(parts_indptr),
        indices=np.concatenate(parts_indices).astype(np.int32),
    )
    return without_empty(combined)


def suppress(records: Records, targets: np.ndarray, rng: np.random.Generator) -> Records:
    """``records`` with random occurrences of over-represented attributes deleted."""
    excess = np.maximum(records.attribute_counts() - targets, 0)
    if not excess.any():
        return without_empty(records)
    n_entries = records.indices.size
    # a random rank for each occurrence of an attribute; delete ranks below the excess
    order = np.lexsort((rng.random(n_entries), records.indices))
    sorted_ids = records.indices[order]
    first = np.searchsorted(sorted_ids, sorted_ids, side="left")
    rank = np.arange(n_entries) - first
    drop = np.zeros(n_entries, dtype=bool)
    drop[order] = rank < excess[sorted_ids]
    record_of = np.repeat(np.arange(records.n_records), records.record_lengths())
    lengths = np.bincount(record_of[~drop], minlength=records.n_records)
    indptr = np.zeros(records.n_records + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    kept = Records(attributes=records.attributes, indptr=indptr, indices=records.indices[~drop])
    return without_empty(kept)


def to_released_counts(
    data: SensitiveData,
    k: int,
    records: Records,
    rng: np.random.Generator,
    notify: Progress,
) -> Records:
    """Consolidate, then suppress: single-attribute counts become the released ones."""
    targets = attribute_targets(data, k)
    notify(_CONSOLIDATING, 0, 1)
    records = consolidate(
        data,
        k,
        records,
        targets,
        rng,
        progress=notify,
    )
    notify(_SUPPRESSING, 0, 1)
    return suppress(records, targets, rng)
