"""Aggregate-seeded k-anonymity synthesis: synthetic records from k-protected aggregates.

The records are made by :class:`~dpshowcase.synthesize.aggregate_seeded.
AggregateSeededSynthesizer` from the released (k-protected) counts alone, so this mode
is post-processing of the release: it never reads sensitive records. That synthesizer
may still leave, in some records, a combination of length ≤ R that was not released
(its fit allows them at a cost); such a combination may describe fewer than k people.
Each such record loses, one at a time, the attribute taking part in the most
unreleased combinations until it holds released combinations only, and the attributes
taken out are packed into new records under the same rule, so the counts of single
attributes stay as fitted. The repair reads only the released combinations, so it is
post-processing too.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dpshowcase.aggregate.keys import pack
from dpshowcase.aggregate.protected import ProtectedAggregates
from dpshowcase.errors import ParameterError
from dpshowcase.kanon import _kernels
from dpshowcase.kanon.records import Records, from_lists, without_empty
from dpshowcase.progress import Progress
from dpshowcase.synthesize.aggregate_seeded import AggregateSeededSynthesizer

_FITTING = "Synthesizing: fitting to the aggregates"
_REPAIRING = "Synthesizing: keeping released combinations"
_WINDOW = 8
"""Open records a loose attribute may join."""


class KAggregateSeededSynthesizer:
    """Synthetic records fitted to k-protected aggregates, holding released combinations only."""

    name = "aggregate-seeded"

    def __init__(self, *, seed: int | None = None) -> None:
        self.seed = seed
        self._aggregates: ProtectedAggregates | None = None

    def fit(self, aggregates: ProtectedAggregates) -> KAggregateSeededSynthesizer:
        """Remember the k-protected aggregates (nothing else is accepted)."""
        if not isinstance(aggregates, ProtectedAggregates) or aggregates.mode != "k-anonymity":
            raise ParameterError(
                "The aggregate-seeded k-anonymity synthesizer takes k-protected aggregates "
                "(dpshowcase.kanon.protect.k_protect) only."
            )
        self._aggregates = aggregates
        return self

    def sample(self, progress: Progress | None = None) -> Records:
        """Synthetic records over the released attribute index."""
        if self._aggregates is None:
            raise ParameterError("Call fit(aggregates) before sample().")
        aggregates = self._aggregates
        notify = progress or (lambda stage, step, steps: None)
        frame = (
            AggregateSeededSynthesizer(seed=self.seed)
            .fit(aggregates)
            .sample(progress=lambda _stage, done, total: notify(_FITTING, done, total))
        )
        notify(_REPAIRING, 0, 1)
        records = released_only(frame, aggregates, np.random.default_rng(self.seed))
        notify(_REPAIRING, 1, 1)
        return records


def released_only(
    frame: pl.DataFrame, aggregates: ProtectedAggregates, rng: np.random.Generator
) -> Records:
    """The records of ``frame`` holding released combinations only.

    Attributes are taken out of a record until every combination of length ≤ R it holds
    is released; the attributes taken out are packed into new records under the same
    rule, so single-attribute counts do not change. Empty records are dropped.
    """
    records, unknown = Records.from_frame(frame, aggregates.attributes)
    if unknown:
        raise ParameterError(
            "The synthetic records hold values that were not released; they cannot come "
            "from these aggregates."
        )
    counts = aggregates.counts
    base = aggregates.attributes.n_attributes + 1
    released_keys = np.sort(pack(counts.combinations, base))
    keep = _kernels.unreleased_free(
        records.indptr,
        records.indices,
        released_keys,
        base,
        counts.reporting_length,
    )
    n = records.n_records
    record_of = np.repeat(np.arange(n), records.record_lengths())
    loose = records.indices[~keep].astype(np.int64)
    loose = loose[rng.permutation(loose.size)]
    regrouped = _kernels.regroup(loose, released_keys, base, counts.reporting_length, _WINDOW)
    owner = np.concatenate([record_of[keep], n + regrouped])
    ids = np.concatenate([records.indices[keep].astype(np.int64), loose])
    order = np.argsort(owner, kind="stable")
    counts_per_record = np.bincount(owner, minlength=n)
    indptr = np.zeros(counts_per_record.size + 1, dtype=np.int64)
    np.cumsum(counts_per_record, out=indptr[1:])
    return without_empty(from_lists(records.attributes, indptr, ids[order]))
