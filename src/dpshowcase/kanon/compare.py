"""Side by side: what classic k-anonymization, k-anonymous synthesis and DP synthesis keep.

Each output (anonymized or synthetic records) is counted up to the reporting length
and set beside the exact counts of the sensitive data:

- **preserved**: combinations of the sensitive data that the output holds;
- **suppressed**: combinations of the sensitive data that the output lacks;
- **fabricated**: combinations the output holds that the sensitive data lacks;
- **generalised**: combinations holding a value the sensitive data does not have (a
  group from a generalisation hierarchy), neither preserved nor fabricated.

These figures are computed from the exact counts, so they are for the data owner
choosing a protection — not for publication.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from dpshowcase.aggregate.count import CombinationCounts, count_combinations
from dpshowcase.aggregate.keys import pack
from dpshowcase.data.attributes import AttributeIndex
from dpshowcase.data.encode import SensitiveData
from dpshowcase.errors import InternalError
from dpshowcase.kanon.baseline import k_anonymize
from dpshowcase.kanon.guarantee import lookup
from dpshowcase.kanon.records import Records, from_lists, index_map
from dpshowcase.kanon.release import k_anonymous_release
from dpshowcase.privacy.marginals import DPMarginals
from dpshowcase.progress import Progress
from dpshowcase.schema.model import Schema
from dpshowcase.synthesize.aggregate_seeded import AggregateSeededSynthesizer


@dataclass(frozen=True)
class LengthComparison:
    """One output beside the sensitive data, for the combinations of one length."""

    length: int
    sensitive: int
    """Combinations of this length in the sensitive data."""
    releasable: int
    """Of those, combinations held by at least k records."""
    preserved: int
    preserved_releasable: int
    """Preserved combinations held by at least k sensitive records."""
    fabricated: int
    generalised: int
    mean_relative_error: float
    """Mean of |output − exact| / exact over the preserved combinations."""

    @property
    def suppressed(self) -> int:
        """Combinations of the sensitive data the output lacks."""
        return self.sensitive - self.preserved

    def as_dict(self) -> dict[str, Any]:
        """For JSON and CSV."""
        return {
            "length": self.length,
            "sensitive": self.sensitive,
            "releasable": self.releasable,
            "preserved": self.preserved,
            "preserved_share": round(self.preserved / self.sensitive, 6) if self.sensitive else 0,
            "preserved_releasable": self.preserved_releasable,
            "suppressed": self.suppressed,
            "fabricated": self.fabricated,
            "generalised": self.generalised,
            "mean_relative_error": round(self.mean_relative_error, 6),
        }


@dataclass(frozen=True)
class Comparison:
    """One output (a method's records) beside the sensitive data."""

    method: str
    rows: int
    """Records in the output."""
    sensitive_rows: int
    """Records in the sensitive data."""
    lengths: tuple[LengthComparison, ...]

    def as_rows(self) -> list[dict[str, Any]]:
        """One flat dict per length (for a CSV table)."""
        return [
            {"method": self.method, "rows": self.rows, "sensitive_rows": self.sensitive_rows}
            | entry.as_dict()
            for entry in self.lengths
        ]


def compare(
    method: str,
    output: Records | pl.DataFrame,
    exact: CombinationCounts,
    k: int,
    sensitive_rows: int,
) -> Comparison:
    """Count ``output`` up to the reporting length of ``exact`` and compare."""
    index = exact.attributes
    if isinstance(output, pl.DataFrame):
        output, unknown = Records.from_frame(output, index)
        if unknown:
            raise InternalError(f"{method}: the output holds values absent from the data")
    aligned, combined = _aligned(output, index)
    R = exact.reporting_length  # noqa: N806 (the domain's name for the reporting length)
    counted = count_combinations(aligned.as_data(Schema.all_categorical(list(combined.columns))), R)
    base = combined.n_attributes + 1
    exact_keys = pack(exact.combinations, base)
    order = np.argsort(exact_keys)
    exact_keys, exact_counts = exact_keys[order], exact.counts[order]
    exact_lengths = exact.lengths[order]
    keys = pack(counted.combinations, base)
    truth = lookup(exact_keys, exact_counts, keys)
    new_value = np.any(counted.combinations >= index.n_attributes, axis=1)
    entries = []
    for length in range(1, R + 1):
        mine = counted.lengths == length
        theirs = exact_lengths == length
        preserved = mine & (truth > 0)
        error = np.abs(counted.counts[preserved] - truth[preserved]) / truth[preserved]
        entries.append(
            LengthComparison(
                length=length,
                sensitive=int(theirs.sum()),
                releasable=int((theirs & (exact_counts >= k)).sum()),
                preserved=int(preserved.sum()),
                preserved_releasable=int((preserved & (truth >= k)).sum()),
                fabricated=int((mine & (truth == 0) & ~new_value).sum()),
                generalised=int((mine & new_value).sum()),
                mean_relative_error=float(error.mean()) if error.size else 0.0,
            )
        )
    return Comparison(
        method=method, rows=output.n_records, sensitive_rows=sensitive_rows, lengths=tuple(entries)
    )


def _aligned(records: Records, index: AttributeIndex) -> tuple[Records, AttributeIndex]:
    """``records`` renumbered into ``index``; values it lacks get ids after its own."""
    to_index = index_map(records.attributes, index)
    extra = np.flatnonzero(to_index < 0)
    to_index[extra] = index.n_attributes + np.arange(extra.size)
    combined = AttributeIndex(
        columns=(*index.columns, "(generalised)"),
        multi_value=(*index.multi_value, True),
        attribute_column=np.concatenate(
            [index.attribute_column, np.full(extra.size, len(index.columns), dtype=np.int32)]
        ),
        attribute_value=(
            *index.attribute_value,
            *(records.attributes.labels[a] for a in extra.tolist()),
        ),
    )
    return from_lists(combined, records.indptr, to_index[records.indices]), combined


def side_by_side(
    sensitive: SensitiveData,
    *,
    k: int,
    quasi_identifiers: list[str],
    epsilon: float,
    reporting_length: int = 3,
    mode: str = "row-seeded",
    hierarchy: dict[str, dict[str, str]] | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
) -> tuple[list[Comparison], dict[str, Any]]:
    """Baseline, k-anonymous synthetic and DP synthetic records on the same data.

    Returns the comparisons and details (the baseline's report, the release check).
    """
    notify = progress or (lambda stage, step, steps: None)
    n = sensitive.n_records
    notify("Counting combinations", 0, 1)
    exact = count_combinations(
        sensitive,
        reporting_length,
        progress=notify,
    )
    notify("Classic k-anonymization", 0, 1)
    anonymized = k_anonymize(sensitive, quasi_identifiers, k, hierarchy)
    baseline = compare("k-anonymized (baseline)", anonymized.records, exact, k, n)
    release = k_anonymous_release(
        sensitive,
        k=k,
        mode=mode,
        reporting_length=reporting_length,
        seed=seed,
        exact=exact,
        progress=notify,
    )
    synthetic = compare(f"k-anonymous synthetic ({mode})", release.synthetic, exact, k, n)
    notify("DP: protecting", 0, 1)
    protected = DPMarginals(epsilon=epsilon, reporting_length=reporting_length, seed=seed).fit(
        sensitive, progress=lambda stage, step, steps: notify("DP: protecting", step, steps)
    )
    dp_frame = (
        AggregateSeededSynthesizer(seed=seed)
        .fit(protected)
        .sample(progress=lambda _stage, done, total: notify("DP: synthesizing", done, total))
    )
    dp = compare(f"DP synthetic (ε = {epsilon:g})", dp_frame, exact, k, n)
    details = {
        "baseline": anonymized.report.as_dict(),
        "k_release_check": release.check.as_dict(),
        "k_release_agreement": [a.as_dict() for a in release.agreement],
    }
    return [baseline, synthetic, dp], details
