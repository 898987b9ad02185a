"""DP marginals: differentially private counts of attribute combinations.

The mechanism of Microsoft's synthetic-data-showcase (see ``../shared/DESIGN.md`` and
:mod:`.accounting`), with a tight zCDP conversion and OpenDP's samplers:

1. the record count is protected with discrete Laplace noise (or declared public);
2. for k = 1..R, the candidates are the single attributes (k = 1), then the
   combinations all of whose (k−1)-sub-combinations were released (apriori join);
3. a DP percentile of how many candidates each record holds sets the allowed
   sensitivity Δ_k; a record holding more contributes a random Δ_k of them;
4. discrete Gaussian noise of scale σ_k·√Δ_k is added to every candidate's count (zero
   counts included), and a candidate is released if its noisy count exceeds ρ_k;
5. normalisation: no combination reports more than any of its sub-combinations.

Guarantee: the output is (ε, δ)-DP for one record (or one subject) as stated by the
:class:`~dpshowcase.privacy.accounting.BudgetPlan`; steps after the noise are
post-processing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from dpshowcase._threads import kernel_threads
from dpshowcase._version import __version__
from dpshowcase.aggregate.count import CombinationCounts, check_reporting_length
from dpshowcase.aggregate.keys import pack
from dpshowcase.aggregate.protected import (
    LengthNoise,
    NoiseDescription,
    ProtectedAggregates,
    issue_protected,
    restrict_to_attributes,
)
from dpshowcase.aggregate.sensitivity import combinations_per_record
from dpshowcase.aggregate.zeros import holds_structural_zero, structural_zero_ids
from dpshowcase.data.encode import SensitiveData
from dpshowcase.data.prepare import prepare
from dpshowcase.errors import InputError, ParameterError
from dpshowcase.privacy import _kernels
from dpshowcase.privacy.accounting import BudgetPlan, DpParameters, plan_budget
from dpshowcase.privacy.noise import NoiseSource, OpenDPNoise, SeededNoise, laplace_count
from dpshowcase.progress import Progress
from dpshowcase.schema.model import ColumnKind, Schema

MAX_PERCENTILE_CANDIDATES = 100_000
"""Upper bound on Δ_k candidates scored by the DP percentile."""
VALUES_PER_OPEN_COLUMN = 32
"""Public bound on how many attributes one record holds in a multi-value column (or, with
a subject id, in any column): it sets the DP percentile's candidate range at length 1,
which must come from the schema, never from the data. A record holding more contributes
a random subset of the allowed sensitivity, as any record above it does."""


@dataclass(frozen=True)
class _LengthResult:
    combinations: np.ndarray
    keys: np.ndarray
    counts: np.ndarray
    sensitivity: int
    candidates: int


class DPMarginals:
    """(ε, δ)-DP counts of attribute combinations up to the reporting length.

    ``DPMarginals(epsilon=4).fit(sensitive_data)`` returns :class:`ProtectedAggregates`.
    Every keyword of :class:`~dpshowcase.privacy.accounting.DpParameters` is accepted.
    ``seed`` makes the run reproducible for tests and demos and marks the output as not
    private; without it noise comes from OpenDP's samplers.
    """

    def __init__(
        self, *, seed: int | None = None, noise: NoiseSource | None = None, **params: Any
    ) -> None:
        self.params = params if isinstance(params, DpParameters) else DpParameters(**params)
        if noise is not None and seed is not None:
            raise ParameterError("Give either a seed or a noise source, not both.")
        self.seed = seed
        self.noise: NoiseSource = noise or (
            SeededNoise(seed) if seed is not None else OpenDPNoise()
        )

    def fit(
        self,
        data: SensitiveData | pl.DataFrame | Path | str,
        progress: Progress | None = None,
        *,
        schema: Schema | Path | str | None = None,
    ) -> ProtectedAggregates:
        """Protect the combination counts of ``data``.

        ``data`` is encoded sensitive data (:func:`~dpshowcase.data.prepare.prepare`),
        or a table — a polars or pandas DataFrame, or a CSV/TSV/Parquet file — that is
        encoded here under ``schema`` (default: every column categorical).
        """
        if not isinstance(data, SensitiveData):
            data = _as_sensitive(data, schema)
        elif schema is not None:
            raise ParameterError(
                "The data are already encoded with their schema; pass schema only with a table."
            )
        params = self.params
        if data.schema.subject_id and params.privacy_unit != "subject":
            params = _with(params, privacy_unit="subject")
        check_reporting_length(params.reporting_length, len(data.attributes.columns))
        if data.n_records < 2:
            raise InputError("The data has fewer than 2 records; there is nothing to protect.")
        # which combinations a record above the sensitivity contributes (not noise)
        sampling_seed = (
            self.seed if self.seed is not None else int.from_bytes(np.random.bytes(4), "little")
        )
        notify = progress or (lambda stage, step, steps: None)

        notify("Protecting the record count", 0, 1)
        record_count = self._record_count(data, params)
        plan = plan_budget(params, record_count)
        attributes = data.attributes
        base = attributes.n_attributes + 1
        if params.reporting_length * math.log2(base) >= 62:
            raise ParameterError(
                f"{attributes.n_attributes:,} attributes at reporting length "
                f"{params.reporting_length} are too many; lower the reporting length or bin "
                "the columns with many values."
            )
        groups = _attribute_groups(data)
        zeros = structural_zero_ids(attributes, data.schema.structural_zeros)
        results: list[_LengthResult] = []
        released_keys = np.zeros(0, dtype=np.int64)
        slots = schema_slots(data.schema)
        for k in range(1, params.reporting_length + 1):
            notify(f"Noisy counts of length {k}", k - 1, params.reporting_length)
            if k == 1:
                candidates = np.arange(attributes.n_attributes, dtype=np.int32).reshape(-1, 1)
            else:
                previous = results[-1]
                if previous.combinations.shape[0] == 0:
                    break
                candidates = _kernels.extend_candidates(
                    previous.combinations, previous.keys, groups, base
                )
            if zeros:
                # public knowledge: a structural zero is never a candidate, so noise
                # cannot release it (nor anything holding it)
                candidates = candidates[~holds_structural_zero(candidates, zeros)]
            if candidates.shape[0] == 0:
                break
            result = self._protect_length(
                data, plan, k, candidates, base, released_keys, slots, sampling_seed
            )
            results.append(result)
            if k == 1:  # longer candidates hold released attributes only: a public count
                released_groups = int(np.unique(groups[result.combinations[:, 0]]).size)
                slots = min(slots, released_groups)
            released_keys = np.sort(np.concatenate([released_keys, result.keys]))
        notify("Normalising", params.reporting_length, params.reporting_length)
        return self._assemble(data, plan, params, record_count, results, base)

    def _record_count(self, data: SensitiveData, params: DpParameters) -> int:
        if params.record_count_from_marginals:
            raise ParameterError(
                "record_count_from_marginals is for the aim and mst synthesizers; the "
                "DP-marginals release protects the record count first."
            )
        if params.record_count_public is not None:
            if params.record_count_public != data.n_records:
                raise ParameterError(
                    f"The record count declared public ({params.record_count_public:,}) is not "
                    f"the data's ({data.n_records:,}); declare the true count or let it be "
                    "protected."
                )
            return data.n_records
        return max(2, laplace_count(data.n_records, params.record_count_epsilon, source=self.noise))

    def _protect_length(
        self,
        data: SensitiveData,
        plan: BudgetPlan,
        k: int,
        candidates: np.ndarray,
        base: int,
        released_keys: np.ndarray,
        slots: int,
        sampling_seed: int,
    ) -> _LengthResult:
        keys = pack(candidates, base)
        per_record_bound = int(combinations_per_record(data.record_lengths(), k).max(initial=0))
        # a record's work: its k-combinations, each looked up among the candidates
        with kernel_threads(data.n_records * max(per_record_bound, 1) * k) as threads:
            chunks = threads * _kernels.CHUNKS_PER_THREAD
            held = _kernels.candidates_per_record(
                data.indptr,
                data.indices,
                k,
                base,
                released_keys,
                keys,
                max(per_record_bound, 1),
                chunks,
            )
            sensitivity = self._sensitivity(held, plan, k, slots)
            counts = _kernels.bounded_counts(
                data.indptr,
                data.indices,
                k,
                base,
                released_keys,
                keys,
                max(per_record_bound, 1),
                sensitivity,
                sampling_seed,
                chunks,
            )
        noisy = self.noise.add_discrete_gaussian(counts, plan.noise_scale(k, sensitivity))
        keep = noisy > plan.threshold(k, sensitivity)
        return _LengthResult(
            combinations=candidates[keep],
            keys=keys[keep],
            counts=noisy[keep],
            sensitivity=sensitivity,
            candidates=int(keys.size),
        )

    def _sensitivity(self, held: np.ndarray, plan: BudgetPlan, k: int, slots: int) -> int:
        """Δ_k: a DP percentile of candidates per record, or the public bound.

        ``slots`` is public: from the schema at length 1 (:func:`schema_slots`), and at
        longer lengths at most the number of column groups among the released single
        attributes (a DP output). The candidate range 0..C(slots, k) thus never depends
        on the sensitive data, as the percentile's guarantee requires.
        """
        public_bound = max(1, min(math.comb(max(slots, 1), k), MAX_PERCENTILE_CANDIDATES))
        if plan.percentile_percentage is None:
            return public_bound
        chosen = self.noise.select_percentile(
            np.minimum(held, public_bound),
            plan.percentile_percentage / 100.0,
            plan.epsilon_percentile,
            public_bound,
        )
        return max(1, int(chosen))

    def _assemble(
        self,
        data: SensitiveData,
        plan: BudgetPlan,
        params: DpParameters,
        record_count: int,
        results: list[_LengthResult],
        base: int,
    ) -> ProtectedAggregates:
        r = params.reporting_length
        combos = np.full((sum(x.keys.size for x in results), r), -1, dtype=np.int32)
        row = 0
        for k, x in enumerate(results, start=1):
            combos[row : row + x.keys.size, :k] = x.combinations
            row += x.keys.size
        keys = np.concatenate([x.keys for x in results]) if results else np.zeros(0, np.int64)
        counts = np.concatenate([x.counts for x in results]) if results else np.zeros(0, np.int64)
        lengths = (
            np.concatenate([np.full(x.keys.size, k, np.int8) for k, x in enumerate(results, 1)])
            if results
            else np.zeros(0, np.int8)
        )
        order = np.argsort(keys)
        keys, counts, lengths, combos = keys[order], counts[order], lengths[order], combos[order]
        counts = _kernels.normalise(combos, lengths, counts, keys, base)
        released = np.zeros(data.attributes.n_attributes, dtype=bool)
        released[combos[lengths == 1, 0]] = True
        protected = restrict_to_attributes(
            CombinationCounts(
                attributes=data.attributes,
                combinations=combos,
                lengths=lengths,
                counts=counts,
                reporting_length=r,
            ),
            released,
        )
        sensitivities = [x.sensitivity for x in results] + [1] * (r - len(results))
        details = plan.to_dict(sensitivities)
        for k, x in enumerate(results, start=1):
            if k >= 2:  # length-1 candidates are the attributes seen in the data: not public
                details["lengths"][k - 1]["candidates"] = x.candidates
            details["lengths"][k - 1]["released"] = int(x.keys.size)
        details.update(
            {
                "mechanism": (
                    "DP marginals (synthetic-data-showcase algorithm, tight zCDP accounting)"
                ),
                "noise_source": self.noise.description,
                "protected_record_count": record_count,
                "tool": f"dpshowcase {__version__}",
            }
        )
        if data.schema.structural_zeros:
            details["structural_zeros"] = list(data.schema.structural_zeros)
        noise = NoiseDescription(
            tuple(
                LengthNoise(
                    length=k,
                    noise_scale=plan.noise_scale(k, s),
                    threshold=plan.threshold(k, s),
                    sensitivity=s,
                )
                for k, s in enumerate(sensitivities, start=1)
            )
        )
        return issue_protected(
            counts=protected,
            record_count=record_count,
            mode="dp",
            guarantee=plan.guarantee,
            parameters=details,
            private=self.noise.private,
            noise=noise,
        )


def schema_slots(schema: Schema) -> int:
    """How many attributes one record may hold, from the schema alone (public).

    One per single-valued column; :data:`VALUES_PER_OPEN_COLUMN` per multi-value column,
    and per column of any kind when the rows of a subject are merged.
    """
    open_columns = sum(
        1 for c in schema.columns if schema.subject_id or c.kind is ColumnKind.MULTI_VALUE
    )
    return len(schema.columns) - open_columns + VALUES_PER_OPEN_COLUMN * open_columns


def _attribute_groups(data: SensitiveData) -> np.ndarray:
    """One group per single-valued column; each multi-value attribute its own group.

    Attributes of one group never co-occur in a record, so combining them would only
    fabricate. When rows of a subject were merged, any two attributes can co-occur.
    """
    attributes = data.attributes
    column = attributes.attribute_column.astype(np.int64)
    own = np.arange(attributes.n_attributes, dtype=np.int64) + len(attributes.columns)
    multi = (
        np.asarray(attributes.multi_value, dtype=bool)[column]
        if attributes.n_attributes
        else np.zeros(0, bool)
    )
    if data.schema.subject_id:
        return own
    return np.where(multi, own, column)


def _as_sensitive(data: object, schema: Schema | Path | str | None) -> SensitiveData:
    """A table (polars/pandas DataFrame or file) encoded for the mechanism."""
    if type(data).__module__.partition(".")[0] == "pandas":
        data = pl.from_pandas(data)  # type: ignore[arg-type]
    if not isinstance(data, pl.DataFrame | Path | str):
        raise ParameterError(
            "DPMarginals.fit takes a table (a polars or pandas DataFrame, or a CSV, TSV or "
            f"Parquet file) or encoded sensitive data, not {type(data).__name__}."
        )
    return prepare(data, schema)


def _with(params: DpParameters, **changes: Any) -> DpParameters:
    return replace(params, **changes)
