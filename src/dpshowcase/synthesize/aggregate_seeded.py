"""Aggregate-seeded synthesis that agrees with the protected counts it was made from.

Reads nothing but :class:`~dpshowcase.aggregate.protected.ProtectedAggregates` (so the
guarantee of the release carries over: this is post-processing). As in the reference
(synthetic-data-showcase), records are grown along released combinations only, and a
record only ever holds released single attributes. Unlike the reference, the records
are then *fitted*: slot by slot, moves that bring the synthetic counts of all released
combinations closer to their protected counts are taken (see :mod:`._fit`), until the
counts agree or the move budget is spent, and a tail of swaps then brings the released
pairs still off by more than 2% (or a record, or five noise scales) to their counts.
The number of records is the protected record count, so records are as dense as the
sensitive ones; a dense record also holds combinations that were not released (their
true counts were too small to pass the threshold, or zero): each such occurrence
counts as an error of the fit, which is how fabrication is kept down without thinning
the records.
"""

from __future__ import annotations

import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import polars as pl

from dpshowcase.aggregate.count import CombinationCounts, count_attribute_combinations
from dpshowcase.aggregate.keys import pack
from dpshowcase.aggregate.protected import ProtectedAggregates
from dpshowcase.errors import ParameterError
from dpshowcase.progress import Progress
from dpshowcase.synthesize import _fit, limits
from dpshowcase.synthesize.published import RAISE_SCALES, raise_to_measurements

SYNTHESIZING = "Synthesizing"
"""The stage synthesis reports (as proposals done of proposals planned)."""

START_TEMPERATURE = 2.0
"""Annealing: worse moves are taken with probability exp(−Δ/T), T falling linearly..."""
ANNEAL_SHARE = 0.5
"""...to 0 once this share of the proposals is spent."""
DENSE_FABRICATION_WEIGHT = 3.0
"""Error weight of an occurrence of a combination that was not released, relative to a
unit of error of a released one, when nobody gives one and the records are dense (at
least :data:`DENSE_ATTRIBUTES` attributes each). Larger values thin the records out:
fewer combinations outside the release (less fabrication), at the price of larger
errors in the counts. 3 is the highest weight measured (with :data:`DEFAULT_ROW_SHARE`)
at which the synthetic single-attribute counts stay closer to the truth than
pac-synth's on ma2019 and national2019 (19 attributes per record) at ε = 1 and 4
(national2019 at ε = 1, 20 sweeps: 65.9-69.0 against 80.5; at 3.5, 84.4); it holds 2-3×
fewer fabricated combinations than weight 1 (benchmarks/README.md, "Fabrication")."""
SPARSE_FABRICATION_WEIGHT = 4.0
"""The weight used when nobody gives one and the records are sparse (at most
:data:`SPARSE_ATTRIBUTES` attributes each; linear in between), with the doubt of
:data:`SPARSE_DOUBT`. A record of m attributes forms (m−1)(m−2)/2 triples with each value
placed in it: 36 at 10 attributes, 153 at 19, so a sparse record can afford a higher
weight for the same single-attribute error. On the 250,000-row demo (9.9 attributes per
record; ε = 1 and 4, unseeded, pac-synth in the same run) weight 4 with the doubt
fabricates 0.29% and 0.15% of triple occurrences against pac-synth's 0.36% and 0.32%
(weight 3 without it: 0.68% and 0.27%), 8.8% and 8.5% of distinct triples (11.8%, 9.9%),
with smaller errors and less suppression than pac-synth's at every length. Weight 7
without the doubt fabricated as little (seeded: 0.30%) but suppressed 59.3% of the real
pairs at ε = 1 against pac-synth's 57.6% (benchmarks/README.md, "Fabrication", ninth
session)."""
DENSE_ATTRIBUTES = 18.0
"""Attributes per record (protected single counts over the protected record count) from
which :data:`DENSE_FABRICATION_WEIGHT` applies: ma2019 and national2019 have 18.4-19.1."""
SPARSE_ATTRIBUTES = 10.0
"""Attributes per record up to which :data:`SPARSE_FABRICATION_WEIGHT` applies: the
demo has 9.9."""
SPARSE_DOUBT = 0.5
"""For sparse records (at most :data:`SPARSE_ATTRIBUTES` attributes each; none for dense
ones, linear in between) a released combination of the reporting length whose measured
count is below this many noise scales is fitted as if it had not been released (target
0, the fabrication weight per occurrence). Triples pass a threshold of 0, so noise alone
releases many that do not exist: on the 250,000-row demo at ε = 1 (noise scale 229),
8,809 of the 95,425 released triples are absent from the data, measured at 29-154
(10th-90th percentile) against 46-783 for real ones, and fitting those counts made two
thirds of the synthetic data's fabricated triple occurrences. Such a triple stays in
noisy_aggregates.csv; aggregates.csv lists it with the count the records give it, if at
least 1. Dense records need their triples: on ma2019 (ε = 1, seed 1) 0.25 scales raised
the single-attribute error from 62.0 to 72.9 (benchmarks/README.md, "Fabrication",
ninth session)."""
NOISY_PAIRS = 1.0
"""Noise scale of the pair counts (in records) below which the weight is
:data:`DENSE_FABRICATION_WEIGHT` whatever the density (ε in the hundreds: the demo's
pairs have a scale of 107 at ε = 1 and 27 at ε = 4).
With noise that small every combination of more than a few records is released, so an
unreleased one the fit needs to match a released pair is a real count under the
threshold, and the higher weight left pairs short: at ε = 1000, 1-4 of the 3,400
released pairs ended 2-3 records off (issue 14, point 6; none at weight 3)."""
MIN_PROPOSALS = 200_000
"""Small data get at least this many proposals (well under a second)."""
STALL_SHARE = 0.002
"""Stop once fewer than this share of proposals in a chunk improve the fit (after annealing)."""
WEIGHT_EXPONENT = 1.5
"""A unit of error at length k weighs (s_R/s_k)^WEIGHT_EXPONENT (s_k: noise scale)."""
DEFAULT_ROW_SHARE = 1.25
"""Synthetic records per protected record (the 2025 CTDC dataset had 1.16 rows per
survivor). The extra records start empty, so attributes that dense records could hold
only by forming unreleased combinations can go to sparser records instead."""
MAX_ROW_SHARE = 2.5
"""The most records per protected record a user may ask for (``--row-share``). More
sparse records let the synthetic data hold the single counts without fabricating: at
pac-synth's own 2.3 rows per record on ma2019 (ε = 1, seeds 1-2, weight 5) single MAE
38.8 and 40.6 against 82.7 and 83.2 at 1.25, with 0.24-0.26% of triple occurrences
fabricated (benchmarks/README.md, "Fabrication", eighth session). Not the default: a
reader counts rows as cases."""
SPARE_FABRICATION_WEIGHT = 10.0
"""Fabrication weight of the spare records' fit. They are seeded with the single
attributes the dense records fell short of (:func:`._fit.place_short_singles`). A
spare record holds a few attributes, so a value placed there forms a few triples where
a dense record would form a hundred: an unreleased combination costs less fabrication
there than anywhere else, and the weight is lower than the dense records'. At 100
(pac-synth's rule, all but) the spare records held 3-4 attributes each and the
single-attribute error stayed high; at 10 it falls by a tenth to a fifth (ma2019, ε = 1,
seeds 1-2: 75.3 → 67.5 and 66.0; national2019 ε = 1: 95.0 → 78.7; ma2019 ε = 4: 19.2
→ 16.5) for 0.03-0.07 points more fabricated triple occurrences
(benchmarks/README.md, "Fabrication", seventh session)."""
SPARE_MOVES = 8
"""Proposals per spare record and sweep."""
MAX_FABRICATION_WEIGHT = 100.0
"""Beyond this the records would be all but empty."""
DEFAULT_SWEEPS = 20
"""Proposals per attribute the records are to hold (the fit stops early when settled).
Twice the 10 of earlier releases: the longer fit lowers every error and the fabrication
at once (ma2019, ε = 1, seeds 1-2: single MAE 66.8 → 60.6, distinct triples fabricated
8.2 → 7.1%, triple occurrences 0.60 → 0.58%; national2019, ε = 1: 82.1 → 68.5, 10.2 →
8.6%, 0.69 → 0.57%). 30 sweeps gave a little more (60.0, 6.5%, 0.57%) for half as much
time again (benchmarks/README.md, "Fabrication", eighth session)."""
MAX_PROPOSALS = 25_000_000
"""At most this many proposals in the main fit: about a minute on two cores, so that a
large file stays interactive. The 250,000-record demo reaches it at 10 sweeps, where
20 sweeps changed its single and pair errors by under 2% and took 70% longer."""
SWAP_FOCUS = 64
"""Swaps work on the released pairs furthest from target: this many, chosen afresh
before each of the 50 rounds of proposals."""
TAIL_TOLERANCE = 0.02
"""The tail of the fit works on the released pairs further than this share of their
target from it (and further than one record and :data:`TAIL_NOISE` noise scales)."""
TAIL_NOISE = 5.0
"""A pair within this many noise scales of its measurement is left alone by the tail:
the gap is no evidence that the fit is off. Noise alone puts a count this far off with
probability below 10⁻⁶; at 3 scales the tail chased ~30 of ma2019's pairs at ε = 1,
3.2–4 scales off, as many as the noise of its ~5,000 pair counts explains. At ε ≈ ∞
the scale is below a fifth of a record, so one record stays the tolerance."""
TAIL_MOVES_PER_PAIR = 4096
"""Swap proposals per pair the tail works on, per round."""
TAIL_SHARE = 4.0
"""The most proposals the tail makes, as a share of the main fit's."""
TAIL_ROUNDS = 10
"""The tail chooses the pairs it works on afresh up to this many times..."""
TAIL_PATIENCE = 2
"""...and stops once this many rounds in a row left no fewer pairs outside their
tolerance than the best round before: what is left is beyond the swaps' reach (with a
tolerance of 3 noise scales, the same ~30 pairs of ma2019 stayed outside at ε = 1,
round after round)."""

RELEASED = (
    "a combination is released when aggregates.csv lists it: its noisy count passed the "
    "threshold (passed_threshold) and its fitted count is at least 1"
)
"""What "released" means in a DP release's parameters.json, datasheet and report."""


def _released_by_length(entry: dict[str, Any], counts: CombinationCounts) -> dict[str, Any]:
    """A per-length parameter entry with ``released`` counted as aggregates.csv lists."""
    entry = dict(entry)
    if "length" in entry:
        entry["passed_threshold"] = entry.get("released")
        entry["released"] = int((counts.lengths == int(entry["length"])).sum())
    return entry


class AggregateSeededSynthesizer:
    """Synthetic records fitted to protected aggregates.

    ``AggregateSeededSynthesizer().fit(aggregates).sample()`` returns a polars DataFrame
    with one string column per attribute column (multi-value columns joined by ``;``,
    absence as an empty string).
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        sweeps: int = DEFAULT_SWEEPS,
        fabrication_weight: float | None = None,
        row_share: float = DEFAULT_ROW_SHARE,
    ) -> None:
        if sweeps < 1:
            raise ParameterError(f"sweeps must be at least 1, not {sweeps}.")
        if fabrication_weight is not None:
            check_fabrication_weight(fabrication_weight)
        check_row_share(row_share)
        self.seed = seed
        self.sweeps = sweeps
        self.given_fabrication_weight = (
            None if fabrication_weight is None else float(fabrication_weight)
        )
        """The weight the caller gave (None: :func:`fabrication_weight_for` the data)."""
        self.row_share = float(row_share)
        self.cleared = 0
        """Cells the last sample cleared to keep unreleased combinations below their limit."""
        self.doubtful = 0
        """Released combinations the last sample fitted as if not released (:func:`doubt_for`)."""
        self._empty_gain: dict[str, float] = {}
        self._limits: dict[int, int] = {}
        self._aggregates: ProtectedAggregates | None = None
        self._fitted: np.ndarray | None = None

    def fit(self, aggregates: ProtectedAggregates) -> AggregateSeededSynthesizer:
        """Remember the protected aggregates to synthesize from (nothing else is accepted)."""
        if not isinstance(aggregates, ProtectedAggregates):
            raise ParameterError(
                "The synthesizer takes protected aggregates only (the output of DPMarginals or "
                f"of a k-anonymity protection), not {type(aggregates).__name__}."
            )
        self._aggregates = aggregates
        self._fitted = None
        return self

    @property
    def fabrication_weight(self) -> float:
        """The weight the fit uses: the one given, else the one the aggregates call for."""
        if self.given_fabrication_weight is not None:
            return self.given_fabrication_weight
        return fabrication_weight_for(self._require())

    def sample_records(self, progress: Progress | None = None) -> np.ndarray:
        """The fitted records as slot arrays (see :mod:`._fit`)."""
        aggregates = self._require()
        attributes = aggregates.attributes
        counts = aggregates.counts
        r = counts.reporting_length
        base = attributes.n_attributes + 1
        keys = pack(counts.combinations, base)
        order = np.argsort(keys)
        keys = keys[order]
        combos = counts.combinations[order]
        lengths = counts.lengths[order].astype(np.int64)
        released = keys.size
        slot_column, slot_start, slot_attributes = _slots(aggregates)
        slot_of = np.zeros(attributes.n_attributes, dtype=np.int64)
        for slot in range(len(slot_column)):
            slot_of[slot_attributes[slot_start[slot] : slot_start[slot + 1]]] = slot
        n_dense = max(int(aggregates.record_count), 1)
        n_spare = round(n_dense * self.row_share) - n_dense
        n = n_dense + n_spare
        target_released = counts.counts[order].astype(np.int64)
        singles = np.zeros(attributes.n_attributes, dtype=np.int64)
        ones = lengths == 1
        singles[combos[ones, 0]] = target_released[ones]
        absent_target = np.array(
            [
                max(n - int(singles[slot_attributes[slot_start[x] : slot_start[x + 1]]].sum()), 0)
                for x in range(len(slot_column))
            ],
            dtype=np.int64,
        )
        child_start, child_row, child_attribute = _children(combos, lengths, keys, base)
        length_weight = np.round(_length_weights(aggregates) * _fit.WEIGHT_UNIT).astype(np.int64)
        _check_int32(target_released, length_weight, np.array([n]))
        # a record may hold a combination that was not released (target 0): each such
        # occurrence is an error of the fit, weighed by the fabrication weight
        unreleased_weight = np.round(length_weight * self.fabrication_weight).astype(np.int64)
        fit_target = target_released.copy()
        cell_weight = length_weight[lengths].copy()
        doubtful = _doubtful(aggregates, lengths, target_released)
        self.doubtful = int(doubtful.sum())
        fit_target[doubtful] = 0
        cell_weight[doubtful] = unreleased_weight[lengths[doubtful]]
        table, cells, where = _fit.build_cells(keys, fit_target, cell_weight, released)
        records = np.full((n, len(slot_column)), -1, dtype=np.int32)
        absent_now = np.full(len(slot_column), n, dtype=np.int64)
        entropy = (
            self.seed
            if self.seed is not None
            else int(np.random.SeedSequence().generate_state(1)[0] % (2**31))
        )
        # Without a seed the records are split between threads that share the table;
        # their rare simultaneous updates of one count may be lost, so the published
        # counts are recounted from the records at the end. A seeded run (tests, demos)
        # stays on one thread so that it is reproducible.
        threads = 1 if self.seed is not None else max(1, min(os.cpu_count() or 1, 4, n // 1000))
        parts = _record_blocks(n_dense, threads)
        children = where[child_row]
        pairs = lengths == 2
        pair_cell = where[pairs]
        pair_attributes = np.ascontiguousarray(combos[pairs, :2]).astype(np.int64)
        # work grows with the attributes to place: dense records need more moves each
        occurrences = max(int(singles.clip(min=0).sum()), n)
        total = max(min(self.sweeps * occurrences, MAX_PROPOSALS), MIN_PROPOSALS)
        chunk = max(total // 50, 1)
        done = 0
        round_ = 0

        tables = _fit.FitTables(
            table=table,
            cells=cells,
            length_weight=unreleased_weight,
            absent_weight=int(length_weight[1]),
            slot_of=slot_of,
            absent_target=absent_target,
            absent_now=absent_now,
            child_start=child_start,
            child_cell=children,
            child_attribute=child_attribute,
            n_released=released,
            base=base,
            reporting_length=r,
            pair_cell=pair_cell,
            pair_attributes=pair_attributes,
            focus=np.zeros(0, dtype=np.int64),
        )

        def work(part: int, step: int, temperature: float, fit: _fit.FitTables) -> int:
            _fit.seed((entropy + 7919 * (round_ * threads + part)) % (2**31))
            return int(_fit.fit_records(records[parts[part]], fit, step, temperature))

        with ThreadPoolExecutor(max_workers=threads) as pool:
            while done < total:
                step = min(chunk, total - done)
                temperature = START_TEMPERATURE * max(0.0, 1.0 - done / (ANNEAL_SHARE * total))
                shares = [max(step * (p.stop - p.start) // n_dense, 1) for p in parts]
                fit = tables._replace(focus=_furthest_off(cells, pair_cell, SWAP_FOCUS))
                improved = sum(
                    pool.map(work, range(threads), shares, [temperature] * threads, [fit] * threads)
                )
                done += step
                round_ += 1
                if progress is not None:
                    progress(SYNTHESIZING, done, total)
                if temperature == 0 and improved < STALL_SHARE * step:
                    break  # the fit has settled: further moves would barely change it
        pair_noise = _pair_noise(aggregates)
        _fit_tail(records[:n_dense], tables, pair_cell, pair_noise, total, entropy, threads)
        if progress is not None:
            progress(SYNTHESIZING, total, total)
        rule = limits.rule_of(aggregates)
        rng = np.random.default_rng(entropy)
        self.cleared = self._enforce(records, slot_of, singles, rule, rng)
        if n_spare > 0:
            # the spare records take what the dense ones could not hold without
            # fabricating: fitted alone, where an unreleased combination costs the
            # fewest fabricated occurrences (see SPARE_FABRICATION_WEIGHT)
            cells[where, _fit.SYNTHETIC] = _recount(records, keys, base, r, attributes.n_attributes)
            absent_now[:] = (records < 0).sum(axis=0)
            spare = tables._replace(
                length_weight=np.round(length_weight * SPARE_FABRICATION_WEIGHT).astype(np.int64),
                focus=_furthest_off(cells, pair_cell, SWAP_FOCUS),
            )
            _fit.seed((entropy + 104729) % (2**31))
            # first the single attributes the dense records fell short of, each where it
            # forms released combinations only (pac-synth's rule): left to the fit, the
            # spare records took the common attributes that complete released pairs and
            # overshot their single counts (ma2019, ε = 1: RAC1P=1 362 over target)
            _fit.place_short_singles(records[n_dense:], spare, rng.permutation(n_spare), n_spare)
            sweeps = total / occurrences  # as many as the main fit could afford
            moves = max(round(sweeps * SPARE_MOVES * n_spare), MIN_PROPOSALS // 4)
            _fit.fit_records(records[n_dense:], spare, moves, 0.0)
            # the limits and the spare records moved attributes: the tail again, on all
            _fit_tail(records, tables, pair_cell, pair_noise, total, entropy + 1, threads)
            self.cleared += self._enforce(records, slot_of, singles, rule, rng)
        self._empty_gain = _empty_gain(records, absent_target, slot_column, attributes)
        self._limits = {
            k: int(v) for k, v in enumerate(rule.limits) if k >= 2 and v < limits.NO_LIMIT
        }
        synthetic = _recount(records, keys, base, r, attributes.n_attributes)
        fitted = np.empty(released, dtype=np.int64)
        fitted[order] = synthetic
        self._fitted = fitted
        return records

    @staticmethod
    def _enforce(
        records: np.ndarray,
        slot_of: np.ndarray,
        singles: np.ndarray,
        rule: limits.Rule,
        rng: np.random.Generator,
    ) -> int:
        """Clear cells so that the rule of :mod:`.limits` holds; returns how many."""
        held = np.bincount(records[records >= 0], minlength=singles.size)
        surplus = (held - singles).astype(np.int64)
        return limits.enforce_limits(records, slot_of, rule, surplus, rng)

    def fitted_aggregates(self) -> ProtectedAggregates:
        """The counts a release publishes (aggregates.csv): the single-attribute counts as
        measured, every longer combination's count from the synthetic records.

        The DP counts are noisy measurements that no single dataset may match exactly
        (e.g. a pair counted below the sum of its triples). The synthetic records are a
        dataset fitted to all of them at once, weighing each length by the precision of
        its measurements; that averages the noise of the many overlapping pairs and
        triples, so their synthetic counts are closer to the truth than their
        measurements (ma2019, ε = 1: 46/33 against 87/93 mean absolute error). Single
        counts are the most precise measurements and the ones the records give up
        first to keep unreleased combinations rare, so they are published as measured
        (after normalisation). A weighted least-squares estimate under the subset
        constraints (Census TopDown style) was measured too and lost to both
        (58/67 for pairs/triples, and it biased singles upward). Where the records fall
        more than two noise scales short of a combination's measurement, its published
        count is raised to the measurement less that margin (:mod:`.published`): the
        records give up such occurrences to keep fabrication down, and the measurement
        says the shortfall is real. Publishing is post-processing either way.
        """
        aggregates = self._require()
        if self._fitted is None:
            raise ParameterError("Call sample() before fitted_aggregates().")
        parameters = dict(aggregates.parameters)
        published = np.where(
            aggregates.counts.lengths == 1, aggregates.counts.counts, self._fitted
        ).astype(np.int64)
        published, raised = raise_to_measurements(aggregates, published)
        raising = (
            f", raised to the measurement less {RAISE_SCALES:g} noise scales where the records "
            "fall further short"
            if raised
            else ""
        )
        parameters["counts"] = (
            "single attributes: the protected measurements; longer combinations: the counts "
            f"of the synthetic records, fitted to all protected measurements at once{raising} "
            "(the raw measurements are published separately as noisy_aggregates.csv)"
        )
        if raised:
            parameters["raised_to_measurement"] = {str(k): n for k, n in raised.items()}
        parameters["synthesis"] = self.settings()
        # Singles as measured, longer combinations as the synthetic records hold them
        # (raised where the records fall short of the measurement, see .published).
        # One meaning of "released" everywhere (datasheet, report, parameters.json): a
        # combination listed in aggregates.csv. One fitted to 0 is not listed there (it
        # stays in noisy_aggregates.csv with the other measurements).
        counts = aggregates.counts.with_counts(published).filter(published > 0)
        parameters["released"] = RELEASED
        parameters["lengths"] = [
            _released_by_length(entry, counts) for entry in parameters.get("lengths") or []
        ]
        return aggregates.derive(counts=counts, parameters=parameters)

    def synthetic_aggregates(self) -> ProtectedAggregates:
        """The released combinations with the counts of the synthetic records just sampled."""
        aggregates = self._require()
        if self._fitted is None:
            raise ParameterError("Call sample() before synthetic_aggregates().")
        return aggregates.derive(counts=aggregates.counts.with_counts(self._fitted))

    def settings(self) -> dict[str, object]:
        """The synthesis settings, as the release states them (parameters.json)."""
        return {
            "method": "aggregate-seeded, fitted to the protected counts",
            "sweeps": self.sweeps,
            "proposals_at_most": MAX_PROPOSALS,
            "fabrication_weight": self.fabrication_weight,
            "fabrication_weight_from": (
                "given"
                if self.given_fabrication_weight is not None
                else f"the data: {attributes_per_record(self._require()):.1f} attributes per "
                f"record ({DENSE_FABRICATION_WEIGHT:g} at {DENSE_ATTRIBUTES:g} or more, "
                f"{SPARSE_FABRICATION_WEIGHT:g} at {SPARSE_ATTRIBUTES:g} or fewer), pair "
                f"noise scale {_pair_noise(self._require()):.3g} records "
                f"({DENSE_FABRICATION_WEIGHT:g} without noise)"
            ),
            "doubtful_below_noise_scales": doubt_for(self._require()),
            "doubtful_combinations": self.doubtful,
            "length_weight_exponent": WEIGHT_EXPONENT,
            "records": f"{self.row_share:g} × the protected record count",
            "row_share": self.row_share,
            "unreleased_limits": {str(k): v for k, v in self._limits.items()},
            "cells_cleared_by_the_limits": self.cleared,
            "empty_cells_gained": self._empty_gain,
        }

    def sample(self, progress: Progress | None = None) -> pl.DataFrame:
        """Synthetic microdata: one row per record, one string column per attribute column.

        Records the fit left without any attribute are not written: a row of empty cells
        is no statistical individual, only noise in the record count. Dropping them
        changes no count of a released combination (an empty record holds none), so the
        fitted aggregates stay exactly those of the rows written.
        """
        aggregates = self._require()
        records = self.sample_records(progress)
        return records_to_frame(drop_empty_records(records), aggregates)

    def _require(self) -> ProtectedAggregates:
        if self._aggregates is None:
            raise ParameterError("Call fit(aggregates) before sample().")
        return self._aggregates


def drop_empty_records(records: np.ndarray) -> np.ndarray:
    """The slot arrays of the records that hold at least one attribute, in order."""
    return records[(records >= 0).any(axis=1)] if records.ndim == 2 else records


def check_fabrication_weight(weight: object) -> None:
    """Refuse a fabrication weight that is not a positive, finite number."""
    if (
        isinstance(weight, bool)
        or not isinstance(weight, int | float)
        or not math.isfinite(weight)
        or not 0 < weight <= MAX_FABRICATION_WEIGHT
    ):
        raise ParameterError(
            f"The fabrication weight must be a number above 0 and at most "
            f"{MAX_FABRICATION_WEIGHT:g} (leave it out to have it chosen from the data; lower "
            f"is more accurate, higher fabricates less), not {weight!r}."
        )


def attributes_per_record(aggregates: ProtectedAggregates) -> float:
    """How many attributes a record holds on average, as the protected counts tell:
    the released single-attribute counts over the protected record count."""
    counts = aggregates.counts
    singles = counts.counts[counts.lengths == 1].clip(min=0).sum()
    return float(singles) / max(float(aggregates.record_count), 1.0)


def _sparseness(aggregates: ProtectedAggregates) -> float:
    """0 for records of :data:`DENSE_ATTRIBUTES` attributes or more, 1 for
    :data:`SPARSE_ATTRIBUTES` or fewer, linear in between."""
    m = attributes_per_record(aggregates)
    return min(max((DENSE_ATTRIBUTES - m) / (DENSE_ATTRIBUTES - SPARSE_ATTRIBUTES), 0.0), 1.0)


def doubt_for(aggregates: ProtectedAggregates) -> float:
    """The doubt (see :data:`SPARSE_DOUBT`) synthesis applies to the released combinations
    of the reporting length: 0 for dense records, :data:`SPARSE_DOUBT` for sparse ones."""
    return round(SPARSE_DOUBT * _sparseness(aggregates), 2)


def fabrication_weight_for(aggregates: ProtectedAggregates) -> float:
    """The fabrication weight used when nobody gives one: :data:`DENSE_FABRICATION_WEIGHT`
    for records of :data:`DENSE_ATTRIBUTES` attributes or more,
    :data:`SPARSE_FABRICATION_WEIGHT` for :data:`SPARSE_ATTRIBUTES` or fewer, linear in
    between (rounded to a tenth); the dense weight whatever the density when there is
    almost no noise (see :data:`NOISY_PAIRS`). It reads protected counts only."""
    share = _sparseness(aggregates)
    if _pair_noise(aggregates) < NOISY_PAIRS:
        share = 0.0
    dense, sparse = DENSE_FABRICATION_WEIGHT, SPARSE_FABRICATION_WEIGHT
    return round(dense + share * (sparse - dense), 1)


def _empty_gain(
    records: np.ndarray, absent_target: np.ndarray, slot_column: list[int], attributes: object
) -> dict[str, float]:
    """Per single-valued column, the share of synthetic cells left empty beyond the share
    the released single counts imply (records leave a value out rather than fabricate)."""
    n = max(records.shape[0], 1)
    columns = attributes.columns  # type: ignore[attr-defined]
    multi = attributes.multi_value  # type: ignore[attr-defined]
    empty = (records < 0).sum(axis=0)
    out = {}
    for slot, column in enumerate(slot_column):
        if multi[column]:
            continue
        out[columns[column]] = round(max(int(empty[slot] - absent_target[slot]), 0) / n, 4)
    return out


def check_row_share(share: object) -> None:
    """Refuse a row share that is not a number from 1 to :data:`MAX_ROW_SHARE`."""
    if (
        isinstance(share, bool)
        or not isinstance(share, int | float)
        or not 1.0 <= share <= MAX_ROW_SHARE
    ):
        raise ParameterError(
            f"The synthetic rows per protected record (--row-share) must be a number from 1 "
            f"to {MAX_ROW_SHARE:g}, not {share!r}; {DEFAULT_ROW_SHARE:g} is the default."
        )


def _recount(
    records: np.ndarray, keys: np.ndarray, base: int, r: int, n_attributes: int
) -> np.ndarray:
    """Exact synthetic count of each released combination (keys sorted), from the records."""
    present = records >= 0
    indptr = np.zeros(records.shape[0] + 1, dtype=np.int64)
    np.cumsum(present.sum(axis=1), out=indptr[1:])
    indices = np.sort(np.where(present, records, np.iinfo(np.int32).max), axis=1)
    indices = indices[indices != np.iinfo(np.int32).max].astype(np.int32)
    counts = count_attribute_combinations(indptr, indices, n_attributes, r)
    found = np.searchsorted(counts[0], keys)
    ok = found < counts[0].size
    hit = np.zeros(keys.size, dtype=bool)
    hit[ok] = counts[0][found[ok]] == keys[ok]
    out = np.zeros(keys.size, dtype=np.int64)
    out[hit] = counts[1][found[hit]]
    return out


def _check_int32(*arrays: np.ndarray) -> None:
    """The fit keeps counts and weights as int32; refuse what would not fit."""
    limit = np.iinfo(np.int32).max // 2
    if any(a.size and int(np.abs(a).max()) > limit for a in arrays):
        raise ParameterError(
            "These counts are too large for the synthesizer (over a billion records); "
            "split the data and release the parts separately."
        )


def _furthest_off(cells: np.ndarray, pair_cell: np.ndarray, count: int) -> np.ndarray:
    """Indices (into ``pair_cell``) of the ``count`` pairs furthest from their target."""
    gaps = np.abs(cells[pair_cell, _fit.SYNTHETIC].astype(np.int64) - cells[pair_cell, _fit.TARGET])
    if gaps.size <= count:
        return np.arange(gaps.size, dtype=np.int64)
    return np.argpartition(-gaps, count - 1)[:count].astype(np.int64)


def _fit_tail(
    records: np.ndarray,
    tables: _fit.FitTables,
    pair_cell: np.ndarray,
    pair_noise: float,
    total: int,
    entropy: int,
    threads: int = 1,
) -> None:
    """Swaps aimed at the released pairs still off by more than their tolerance (see
    :data:`TAIL_TOLERANCE`, :func:`._fit.fit_tail`), in :data:`TAIL_ROUNDS` rounds that
    each choose those pairs afresh (until :data:`TAIL_PATIENCE` rounds bring no
    progress); at most :data:`TAIL_SHARE` of the main fit's
    ``total`` proposals. ``pair_noise``: the noise scale of the pairs' measurements.
    With several ``threads`` each works on its own block of records, sharing the counts
    as the main fit does (the counts are recounted from the records afterwards)."""
    cells = tables.cells
    target = cells[pair_cell, _fit.TARGET].astype(np.float64)
    tolerance = np.full(cells.shape[0], np.inf)
    tolerance[pair_cell] = np.maximum(
        np.maximum(TAIL_TOLERANCE * target, 1.0), math.floor(TAIL_NOISE * pair_noise)
    )  # gaps are whole records: a tolerance of 1.3 records is one of 1
    most = max(int(TAIL_SHARE * total) // TAIL_ROUNDS, 1)
    fewest = pair_cell.size + 1
    stale = 0
    blocks = _record_blocks(records.shape[0], threads)
    for round_ in range(TAIL_ROUNDS):
        gap = np.abs(cells[pair_cell, _fit.SYNTHETIC] - target)
        focus = np.flatnonzero(gap > tolerance[pair_cell]).astype(np.int64)
        if focus.size == 0:
            break
        stale = 0 if focus.size < fewest else stale + 1
        fewest = min(fewest, focus.size)
        if stale >= TAIL_PATIENCE:
            break  # no progress
        moves = min(TAIL_MOVES_PER_PAIR * focus.size, most)
        seed = entropy + 15485863 + 7919 * round_ * len(blocks)
        _tail_round(records, tables._replace(focus=focus), tolerance, moves, blocks, seed)


def _tail_round(
    records: np.ndarray,
    fit: _fit.FitTables,
    tolerance: np.ndarray,
    moves: int,
    blocks: list[slice],
    seed: int,
) -> None:
    """One round of the tail: ``moves`` proposals, shared among the blocks of records
    (one thread each)."""

    def work(part: int) -> int:
        _fit.seed((seed + 7919 * part) % (2**31))
        share = max(moves // len(blocks), 1)
        return int(_fit.fit_tail(records[blocks[part]], fit, tolerance, share))

    if len(blocks) == 1:
        work(0)
        return
    with ThreadPoolExecutor(max_workers=len(blocks)) as pool:
        list(pool.map(work, range(len(blocks))))


def _record_blocks(n: int, parts: int) -> list[slice]:
    """``n`` records cut into ``parts`` consecutive blocks (sizes differ by at most one),
    one per thread: each thread fits its own block, so no record is moved by two."""
    parts = max(parts, 1)
    bounds = [i * n // parts for i in range(parts + 1)]
    return [slice(lo, hi) for lo, hi in itertools.pairwise(bounds)]


def _doubtful(
    aggregates: ProtectedAggregates, lengths: np.ndarray, measured: np.ndarray
) -> np.ndarray:
    """Released combinations of the reporting length whose measurement is below
    :func:`doubt_for` noise scales."""
    noise = aggregates.noise
    r = aggregates.counts.reporting_length
    doubt = doubt_for(aggregates)
    if noise is None or doubt <= 0 or r < 3:
        return np.zeros(lengths.size, dtype=bool)
    return (lengths == r) & (measured < doubt * float(noise.scale(r)))


def _pair_noise(aggregates: ProtectedAggregates) -> float:
    """The noise scale of the released pairs' measurements (0 without noise)."""
    noise = aggregates.noise
    if noise is None or len(noise.lengths) < 2:
        return 0.0
    return float(noise.scale(2))


def _length_weights(aggregates: ProtectedAggregates) -> np.ndarray:
    """Weight of one unit of error at each length (index = length; index 0 unused).

    With DP noise a count of length k is a measurement with noise scale s_k, so a unit
    of error there is worth (s_R/s_k)^WEIGHT_EXPONENT: the fit trusts precise counts
    more and does not chase the noise of long combinations. Least squares would weigh
    by 1/s_k² (exponent 2) and a least-absolute fit by 1/s_k (exponent 1). On the ACS
    excerpts a larger exponent lowers the error at every length but raises fabrication
    (records hold single attributes whose pairs were not released). At 1.25 the fitted
    single counts of national2019 at ε = 1 were three times as far from the truth as
    the noisy measurements and no better than pac-synth's; 1.5 cuts that error by
    over a quarter for two more points of fabricated triples (benchmarks/README.md). Without
    noise scales (k-anonymity) every length weighs the same.
    """
    r = aggregates.reporting_length
    noise = aggregates.noise
    if noise is not None and len(noise.lengths) == r:
        return np.array(
            [1.0]
            + [(noise.scale(r) / noise.scale(k)) ** WEIGHT_EXPONENT for k in range(1, r + 1)]
        )
    return np.ones(r + 1, dtype=np.float64)


def _children(
    combos: np.ndarray, lengths: np.ndarray, keys: np.ndarray, base: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each released row (and, last, the empty combination) its released children.

    A child of S is a released S ∪ {c}; returned as CSR (start, child row, c).
    """
    released = keys.size
    parents, children, added = [], [], []
    ones = np.flatnonzero(lengths == 1)
    parents.append(np.full(ones.size, released, dtype=np.int64))
    children.append(ones.astype(np.int64))
    added.append(combos[ones, 0].astype(np.int64))
    for k in range(2, int(lengths.max(initial=1)) + 1):
        rows = np.flatnonzero(lengths == k)
        if rows.size == 0:
            continue
        for drop in range(k):
            keep = [j for j in range(k) if j != drop]
            parent_keys = pack(np.ascontiguousarray(combos[rows][:, keep]), base)
            found = np.searchsorted(keys, parent_keys)
            ok = (found < released) & (keys[np.minimum(found, released - 1)] == parent_keys)
            parents.append(found[ok].astype(np.int64))
            children.append(rows[ok].astype(np.int64))
            added.append(combos[rows[ok], drop].astype(np.int64))
    parent = np.concatenate(parents)
    order = np.argsort(parent, kind="stable")
    start = np.zeros(released + 2, dtype=np.int64)
    np.cumsum(np.bincount(parent, minlength=released + 1), out=start[1:])
    return start, np.concatenate(children)[order], np.concatenate(added)[order]


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
