"""How well combination counts survive from a reference to an output.

Two count tables are compared — a *reference* (the sensitive counts, or the protected
counts) and an *output* (the protected counts, or the synthetic records' counts) —
over every combination of 1..R attributes. The measures follow Microsoft
synthetic-data-showcase's evaluator (its "preservation by length / by count" and
"fabricated / leakage" figures), with the definitions stated here:

- **preservation** of a reference combination with count ``r > 0`` whose output count
  is ``o`` (0 when absent): ``min(o / r, 1)``; averaged over a group of combinations.
  1 means every count kept at least its size; it does not reward overshooting.
- **mean proportional error**: the mean of ``|o − r| / r``.
- **count ratio**: ``Σ o / Σ r`` over the reference combinations of a group: above 1
  the output inflates, below 1 it deflates.
- **mean combination count** per length: ``Σ counts / distinct combinations``, for the
  reference and the output separately.
- **fabricated**: output combinations absent from the reference; **suppressed**:
  reference combinations absent from the output.
- **rare in output** (leakage when the reference is the sensitive data): reference
  combinations whose count is below the resolution and that appear in the output.
- **count buckets**: a reference combination falls in the bucket ``(b/2, b]`` for
  b = 10, 20, 40, … (the first bucket is ``(0, 10]``). Unlike synthetic-data-showcase,
  which buckets by the *synthetic* count, buckets here are by the *reference* count,
  so a bucket answers "how well do combinations of this true size survive?".
- **combination loss**: the mean over buckets of ``1 − preservation`` (as in
  synthetic-data-showcase).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

__all__ = [
    "BucketPreservation",
    "CountComparison",
    "LengthPreservation",
    "bucket_bounds",
    "compare_counts",
]

FIRST_BUCKET = 10
"""Upper bound of the first count bucket; each next bucket doubles it."""


@dataclass(frozen=True)
class LengthPreservation:
    """Reference and output counts of the combinations of one length."""

    length: int
    reference_combinations: int
    """Distinct combinations in the reference."""
    output_combinations: int
    """Distinct combinations in the output."""
    common: int
    """Combinations in both."""
    fabricated: int
    """In the output, not in the reference."""
    suppressed: int
    """In the reference, not in the output."""
    rare_in_output: int
    """Reference combinations with a count below the resolution present in the output."""
    reference_mean_count: float
    output_mean_count: float
    preservation: float
    """Mean of min(output / reference, 1) over reference combinations."""
    count_ratio: float
    """Σ output / Σ reference over reference combinations."""
    mean_proportional_error: float
    """Mean |output − reference| / reference over reference combinations."""
    fabricated_count: int
    """Sum of the output counts of fabricated combinations."""
    suppressed_count: int
    """Sum of the reference counts of suppressed combinations."""


@dataclass(frozen=True)
class BucketPreservation:
    """Reference combinations whose count lies in ``(lower, upper]``."""

    lower: int
    upper: int
    combinations: int
    mean_reference_count: float
    mean_output_count: float
    mean_length: float
    preservation: float
    mean_proportional_error: float


@dataclass(frozen=True)
class CountComparison:
    """Every measure of how ``output`` keeps the counts of ``reference``."""

    reference: str
    """What the reference is: "sensitive" or "protected"."""
    output: str
    """What the output is: "protected" or "synthetic"."""
    resolution: int
    by_length: tuple[LengthPreservation, ...]
    by_bucket: tuple[BucketPreservation, ...]
    preservation: float
    """Mean preservation over all reference combinations."""
    combination_loss: float
    """Mean over buckets of 1 − bucket preservation."""
    fabricated: int
    suppressed: int
    rare_in_output: int

    def to_dict(self) -> dict[str, Any]:
        """Plain data for metrics.json."""
        return asdict(self)


def bucket_bounds(max_count: int) -> np.ndarray:
    """Upper bounds 10, 20, 40, … up to the first one ≥ ``max_count``."""
    bounds = [FIRST_BUCKET]
    while bounds[-1] < max_count:
        bounds.append(bounds[-1] * 2)
    return np.array(bounds, dtype=np.int64)


def compare_counts(
    reference: pl.DataFrame,
    output: pl.DataFrame,
    *,
    resolution: int = 10,
    reference_name: str = "sensitive",
    output_name: str = "synthetic",
    max_length: int | None = None,
) -> CountComparison:
    """Compare two ``combination, length, count`` tables (see the module docstring).

    Only combinations of length ≤ ``max_length`` (default: the reference's longest) take
    part, so an output counted to a longer length is judged on the same ground.
    """
    if max_length is None:
        max_length = int(reference.get_column("length").max() or 0)  # type: ignore[arg-type]
    ref = _prepare(reference, "r", max_length)
    out = _prepare(output, "o", max_length)
    joined = (
        ref.join(out, on=["combination", "length"], how="full", coalesce=True)
        .with_columns(pl.col("r").fill_null(0), pl.col("o").fill_null(0))
        .sort("length", "combination")  # a join's row order varies; means must not
    )
    in_ref = pl.col("r") > 0
    in_out = pl.col("o") > 0
    score = joined.with_columns(
        pl.when(in_ref).then(pl.min_horizontal(pl.col("o") / pl.col("r"), pl.lit(1.0))).alias("p"),
        pl.when(in_ref).then((pl.col("o") - pl.col("r")).abs() / pl.col("r")).alias("e"),
    )
    per_length = (
        score.group_by("length")
        .agg(
            in_ref.sum().alias("reference_combinations"),
            in_out.sum().alias("output_combinations"),
            (in_ref & in_out).sum().alias("common"),
            (in_out & ~in_ref).sum().alias("fabricated"),
            (in_ref & ~in_out).sum().alias("suppressed"),
            (in_ref & in_out & (pl.col("r") < resolution)).sum().alias("rare_in_output"),
            pl.col("r").sum().alias("r_sum"),
            pl.col("o").sum().alias("o_sum"),
            pl.col("o").filter(in_ref).sum().alias("o_on_ref"),
            pl.col("o").filter(~in_ref).sum().alias("fabricated_count"),
            pl.col("r").filter(~in_out).sum().alias("suppressed_count"),
        )
        .sort("length")
    )
    ref_only = score.filter(in_ref)
    column = {name: ref_only.get_column(name).to_numpy() for name in ("r", "o", "length", "p", "e")}
    per_length_p = _group_means(column["length"], column["p"], max_length + 1)
    per_length_e = _group_means(column["length"], column["e"], max_length + 1)
    rows = {
        int(row["length"]): {
            **row,
            "preservation": per_length_p[int(row["length"])],
            "mean_proportional_error": per_length_e[int(row["length"])],
        }
        for row in per_length.iter_rows(named=True)
    }
    by_length = tuple(_length_row(k, rows.get(k)) for k in range(1, max_length + 1))

    counts = column["r"]
    bounds = bucket_bounds(int(counts.max()) if counts.size else 0)
    bucket = np.searchsorted(bounds, counts, side="left")
    held = np.bincount(bucket, minlength=bounds.size)
    means = {
        name: _group_means(bucket, column[name], bounds.size)
        for name in ("r", "o", "length", "p", "e")
    }
    by_bucket = tuple(
        BucketPreservation(
            lower=int(bounds[b] // 2) if b > 0 else 0,
            upper=int(bounds[b]),
            combinations=int(held[b]),
            mean_reference_count=float(means["r"][b]),
            mean_output_count=float(means["o"][b]),
            mean_length=float(means["length"][b]),
            preservation=float(means["p"][b]),
            mean_proportional_error=float(means["e"][b]),
        )
        for b in np.flatnonzero(held)
    )
    preservation = float(column["p"].mean()) if counts.size else None
    return CountComparison(
        reference=reference_name,
        output=output_name,
        resolution=resolution,
        by_length=by_length,
        by_bucket=by_bucket,
        preservation=float(preservation) if preservation is not None else 0.0,  # type: ignore[arg-type]
        combination_loss=float(np.mean([1.0 - b.preservation for b in by_bucket]))
        if by_bucket
        else 0.0,
        fabricated=sum(x.fabricated for x in by_length),
        suppressed=sum(x.suppressed for x in by_length),
        rare_in_output=sum(x.rare_in_output for x in by_length),
    )


def _group_means(keys: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """The mean of ``values`` for each integer key below ``size`` (0 where none).

    Summed in row order, so the same table gives the same bits every time (polars'
    parallel group means vary in their last digits from run to run).
    """
    keys = keys.astype(np.int64)
    totals = np.bincount(keys, weights=values.astype(np.float64), minlength=size)
    held = np.bincount(keys, minlength=size)
    return np.divide(totals, held, out=np.zeros(size), where=held > 0)


def _prepare(table: pl.DataFrame, name: str, max_length: int) -> pl.DataFrame:
    return table.select(
        pl.col("combination").cast(pl.String),
        pl.col("length").cast(pl.Int64),
        pl.col("count").cast(pl.Int64).alias(name),
    ).filter((pl.col("length") <= max_length) & (pl.col(name) > 0))


def _length_row(k: int, row: dict[str, Any] | None) -> LengthPreservation:
    if row is None:
        return LengthPreservation(k, 0, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0)
    n_ref = int(row["reference_combinations"])
    n_out = int(row["output_combinations"])
    return LengthPreservation(
        length=k,
        reference_combinations=n_ref,
        output_combinations=n_out,
        common=int(row["common"]),
        fabricated=int(row["fabricated"]),
        suppressed=int(row["suppressed"]),
        rare_in_output=int(row["rare_in_output"]),
        reference_mean_count=float(row["r_sum"]) / n_ref if n_ref else 0.0,
        output_mean_count=float(row["o_sum"]) / n_out if n_out else 0.0,
        preservation=float(row["preservation"] or 0.0),
        count_ratio=float(row["o_on_ref"]) / float(row["r_sum"]) if row["r_sum"] else 0.0,
        mean_proportional_error=float(row["mean_proportional_error"] or 0.0),
        fabricated_count=int(row["fabricated_count"]),
        suppressed_count=int(row["suppressed_count"]),
    )
