"""Aggregate-seeded synthesis that agrees with the protected counts it was made from.

Reads nothing but :class:`~dpshowcase.aggregate.protected.ProtectedAggregates` (so the
guarantee of the release carries over: this is post-processing). As in the reference
(synthetic-data-showcase), a synthetic record only ever holds combinations that were
released, so no combination of length ≤ R is fabricated beyond the release. Unlike the
reference, the records are then *fitted*: slot by slot, moves that bring the synthetic
counts of all released combinations closer to their protected counts are taken (see
:mod:`._fit`), until the counts agree or the move budget is spent. The number of
records is the protected record count.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from dpshowcase.aggregate.protected import ProtectedAggregates
from dpshowcase.errors import ParameterError
from dpshowcase.privacy._kernels import pack
from dpshowcase.synthesize import _fit

ProgressCallback = Callable[[int, int], None]

LENGTH_WEIGHT_BASE = 2.0
"""Weight of a length-k combination's error is LENGTH_WEIGHT_BASE^(R−k)."""
START_TEMPERATURE = 2.0
"""Annealing: worse moves are taken with probability exp(−Δ/T), T falling to 0 halfway."""
EXTRA_COMBINATIONS = 2_000_000
"""Room for unreleased combinations met while fitting (each costs 24 bytes)."""
DEFAULT_SWEEPS = 10
"""Proposals per record-slot, in all (the fit stops early once no move is taken)."""


class AggregateSeededSynthesizer:
    """Synthetic records fitted to protected aggregates.

    ``AggregateSeededSynthesizer().fit(aggregates).sample()`` returns a polars DataFrame
    with one string column per attribute column (multi-value columns joined by ``;``,
    absence as an empty string).
    """

    def __init__(self, *, seed: int | None = None, sweeps: int = DEFAULT_SWEEPS) -> None:
        if sweeps < 1:
            raise ParameterError(f"sweeps must be at least 1, not {sweeps}.")
        self.seed = seed
        self.sweeps = sweeps
        self._aggregates: ProtectedAggregates | None = None

    def fit(self, aggregates: ProtectedAggregates) -> AggregateSeededSynthesizer:
        """Remember the protected aggregates to synthesize from (nothing else is accepted)."""
        if not isinstance(aggregates, ProtectedAggregates):
            raise ParameterError(
                "The synthesizer takes protected aggregates only (the output of DPMarginals or "
                f"of a k-anonymity protection), not {type(aggregates).__name__}."
            )
        self._aggregates = aggregates
        return self

    def sample_records(self, progress: ProgressCallback | None = None) -> np.ndarray:
        """The fitted records as slot arrays (see :mod:`._fit`)."""
        aggregates = self._require()
        attributes = aggregates.attributes
        counts = aggregates.counts
        base = attributes.n_attributes + 1
        keys = pack(counts.combinations, base)
        order = np.argsort(keys)
        keys = keys[order]
        target = counts.counts[order].astype(np.int64)
        slots, slot_start, slot_attributes = _slots(aggregates)
        attribute_row = np.full(attributes.n_attributes, -1, dtype=np.int64)
        singles = np.searchsorted(keys, np.arange(attributes.n_attributes) + 1)
        found = (singles < keys.size) & (
            keys[np.minimum(singles, keys.size - 1)] == np.arange(attributes.n_attributes) + 1
        )
        attribute_row[found] = singles[found]
        n = max(int(aggregates.record_count), 1)
        absent_target = np.array(
            [
                max(
                    n
                    - int(
                        target[
                            attribute_row[slot_attributes[slot_start[s] : slot_start[s + 1]]]
                        ].sum()
                    ),
                    0,
                )
                for s in range(len(slots))
            ],
            dtype=np.int64,
        )
        # rows past the released ones hold unreleased combinations synthesis touches
        # (target 0): allowed, but every record holding one is an error of the fit
        capacity = keys.size + max(EXTRA_COMBINATIONS, 4 * keys.size)
        table_keys, table_rows = _fit.build_table(keys, capacity)
        records = np.full((n, len(slots)), -1, dtype=np.int32)
        synthetic = np.zeros(capacity, dtype=np.int64)
        target = np.concatenate([target, np.zeros(capacity - keys.size, dtype=np.int64)])
        used = np.array([keys.size], dtype=np.int64)
        _fit.seed(
            self.seed if self.seed is not None else int(np.random.SeedSequence().entropy % (2**31))
        )
        # a move touches 1 single, m pairs, C(m,2) triples…: weigh lengths so that short
        # combinations are not outvoted by the many long ones they are part of
        lengths = counts.lengths[order].astype(np.int64)
        length_weight = LENGTH_WEIGHT_BASE ** (
            counts.reporting_length - np.arange(counts.reporting_length + 1, dtype=np.float64)
        )
        weight = np.zeros(capacity, dtype=np.float64)
        weight[: keys.size] = length_weight[lengths]
        total = self.sweeps * n * len(slots)
        chunk = max(n * len(slots) // 2, 1)
        done = 0
        while done < total:
            step = min(chunk, total - done)
            temperature = START_TEMPERATURE * max(0.0, 1.0 - 2.0 * done / total)
            taken = _fit.fit_records(
                records,
                synthetic,
                target,
                weight,
                slot_start,
                slot_attributes,
                attribute_row,
                absent_target,
                table_keys,
                table_rows,
                used,
                length_weight,
                base,
                counts.reporting_length,
                step,
                temperature,
            )
            done += step
            if progress is not None:
                progress(done, total)
            if taken == 0 and temperature == 0:
                break
        if progress is not None:
            progress(total, total)
        return records

    def sample(self, progress: ProgressCallback | None = None) -> pl.DataFrame:
        """Synthetic microdata: one row per record, one string column per attribute column."""
        aggregates = self._require()
        records = self.sample_records(progress)
        return records_to_frame(records, aggregates)

    def _require(self) -> ProtectedAggregates:
        if self._aggregates is None:
            raise ParameterError("Call fit(aggregates) before sample().")
        return self._aggregates


def _slots(aggregates: ProtectedAggregates) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Slot layout: the column of each slot, and the attributes each slot may hold."""
    attributes = aggregates.attributes
    slot_column: list[int] = []
    members: list[list[int]] = []
    for c, _name in enumerate(attributes.columns):
        ids = list(attributes.attributes_of(attributes.columns[c]))
        if not ids:
            continue
        if attributes.multi_value[c]:
            for a in ids:
                slot_column.append(c)
                members.append([a])
        else:
            slot_column.append(c)
            members.append(ids)
    slot_start = np.zeros(len(members) + 1, dtype=np.int64)
    np.cumsum([len(m) for m in members], out=slot_start[1:])
    slot_attributes = np.array([a for m in members for a in m], dtype=np.int64)
    return slot_column, slot_start, slot_attributes


def records_to_frame(records: np.ndarray, aggregates: ProtectedAggregates) -> pl.DataFrame:
    """Slot arrays → one string column per attribute column (multi-value joined by ';')."""
    attributes = aggregates.attributes
    slot_column, _, _ = _slots(aggregates)
    values = pl.Series([*attributes.attribute_value, ""], dtype=pl.String)
    columns: dict[str, pl.Series] = {}
    for c, name in enumerate(attributes.columns):
        slots = [s for s, col in enumerate(slot_column) if col == c]
        if not slots:
            columns[name] = pl.Series(name, [""] * records.shape[0], dtype=pl.String)
            continue
        parts = []
        for s in slots:
            ids = records[:, s].astype(np.int64)
            ids[ids < 0] = len(values) - 1
            parts.append(values.gather(ids).replace("", None))
        joined = pl.select(
            pl.concat_str(parts, separator=";", ignore_nulls=True).fill_null("")
        ).to_series()
        columns[name] = joined.alias(name)
    return pl.DataFrame(columns)
