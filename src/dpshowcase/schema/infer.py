"""Proposing a schema from the data, for a person to check and edit.

The rules are few and printed with their reasons:

- a column with no values is left out;
- a column where nearly every value is distinct looks like an identifier and is left
  out (an identifier must never be released);
- a column where some cells hold several values joined by the delimiter is
  multi-value;
- a column of whole numbers where nearly every value is distinct (a phone or case
  number) looks like an identifier too, and is left out;
- a column of numbers with many distinct values is numeric, binned at "nice" edges
  (round numbers near its quantiles, never its smallest or largest value), open-ended
  at both ends (``< 20`` … ``≥ 100000``) and marked ``edges = "inferred"``: the edges
  still say a little about the data, so a DP release refuses them until a person has
  reviewed them and marked them ``edges = "public"`` (or asks for DP edges);
- anything else is categorical; ``0`` counts as absence in a 0/1 flag column and as a
  real answer (a sensitive zero) in a column that has other codes besides 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from dpshowcase.errors import SchemaError
from dpshowcase.schema.conventions import (
    ZERO_VALUES,
    looks_like_identifier,
    looks_like_numeric_identifier,
)
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema

NUMERIC_MIN_DISTINCT = 30
"""A numeric column with more distinct values than this is binned."""
MULTI_VALUE_MIN_SHARE = 0.005
"""Share of present cells that must hold the delimiter for a column to be multi-value."""
DEFAULT_BINS = 5


@dataclass(frozen=True)
class ColumnReport:
    """What inference saw in one column and what it decided."""

    name: str
    decision: str
    distinct: int
    empty_share: float
    note: str


def infer_schema(
    frame: pl.DataFrame,
    *,
    null_values: tuple[str, ...] = ("",),
    delimiter: str = ";",
    bins: int = DEFAULT_BINS,
    subject_id: str | None = None,
) -> tuple[Schema, list[ColumnReport]]:
    """A proposed schema for ``frame`` and a report line per column."""
    if subject_id is not None and subject_id not in frame.columns:
        raise SchemaError(f"The data has no column {subject_id!r} to use as subject id.")
    nulls = tuple(dict.fromkeys(("", *null_values)))
    specs: list[ColumnSpec] = []
    reports: list[ColumnReport] = []
    for name in frame.columns:
        if name == subject_id:
            reports.append(ColumnReport(name, "subject id", 0, 0.0, "rows of one subject merge"))
            continue
        series = frame.get_column(name).cast(pl.String).str.strip_chars()
        present = series.filter(series.is_not_null() & ~series.is_in(list(nulls)))
        empty_share = 1.0 - present.len() / max(series.len(), 1)
        distinct = present.n_unique()
        spec, decision, note = _decide(name, present, distinct, delimiter, bins)
        if spec is not None:
            specs.append(spec)
        reports.append(ColumnReport(name, decision, distinct, empty_share, note))
    if not specs:
        raise SchemaError(
            "No column of the data can be used as attributes (all empty or identifiers)."
        )
    return Schema(columns=tuple(specs), subject_id=subject_id, null_values=nulls), reports


def _decide(
    name: str, present: pl.Series, distinct: int, delimiter: str, bins: int
) -> tuple[ColumnSpec | None, str, str]:
    n = present.len()
    if n == 0:
        return None, "left out", "no values"
    with_delimiter = present.str.contains(delimiter, literal=True).sum()
    if with_delimiter >= max(1, MULTI_VALUE_MIN_SHARE * n):
        tokens = present.str.split(delimiter).explode().str.strip_chars()
        n_tokens = tokens.filter(tokens != "").n_unique()
        return (
            ColumnSpec(name=name, kind=ColumnKind.MULTI_VALUE, delimiter=delimiter),
            "multi_value",
            f"{with_delimiter:,} cells hold several values; {n_tokens} distinct values",
        )
    numbers = present.cast(pl.Float64, strict=False)
    is_numeric = numbers.null_count() == 0
    if is_numeric and looks_like_numeric_identifier(numbers.to_numpy()):
        return None, "left out", f"looks like an identifier ({distinct:,} distinct in {n:,})"
    if is_numeric and distinct > NUMERIC_MIN_DISTINCT:
        edges = nice_edges(numbers.to_numpy(), bins)
        if edges:
            return (
                ColumnSpec(
                    name=name,
                    kind=ColumnKind.NUMERIC,
                    bins=edges,
                    open_ended=True,
                    edges="inferred",
                ),
                "numeric",
                f"binned below {_fmt(edges[0])}, "
                + "".join(f"at {_fmt(e)}, " for e in edges[1:])
                + "and up (round numbers near the data's quantiles: review them, then mark "
                'them edges = "public")',
            )
    if looks_like_identifier(distinct, n):
        return None, "left out", f"looks like an identifier ({distinct:,} distinct in {n:,})"
    values = set(present.unique().to_list()) if distinct <= 1000 else set()
    if values and values <= {"0", "1", "0.0", "1.0"}:
        return ColumnSpec(name=name), "categorical", "0/1 flag: 0 is absence"
    if values & set(ZERO_VALUES):
        return (
            ColumnSpec(name=name, sensitive_zero=True),
            "categorical",
            "0 is one code among others: kept as a sensitive zero",
        )
    return ColumnSpec(name=name), "categorical", f"{distinct} values"


def nice_edges(values: np.ndarray, bins: int) -> tuple[float, ...]:
    """Round inner edges near the quantiles of ``values``, for open-ended bins.

    The edges are the ``bins − 1`` inner quantiles rounded to a step of 1, 2 or 5 times
    a power of ten: the largest such step at most the narrowest gap between the
    quantiles, and never finer than two significant digits of the largest of them
    (ages round to tens, incomes to thousands). An edge is kept only strictly between
    the smallest and the largest value, so neither extreme is ever an edge (edges that
    round to the same number merge); the bins
    below the first edge and from the last one on are open (``< 20``, ``≥ 80``). An
    empty result means no round number splits the data.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return ()
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        return ()
    inner = np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])
    gaps = np.diff(np.unique(inner))
    largest = float(np.abs(inner).max()) or float(max(abs(low), abs(high)))
    coarse = 10.0 ** (math.floor(math.log10(largest)) - 1) if largest > 0 else 1.0
    step = max(_nice_step(float(gaps.min())), coarse) if gaps.size else coarse
    if bool(np.all(np.floor(finite) == finite)):
        step = max(step, 1.0)
    for _ in range(12):  # finer steps until a round number falls strictly inside the data
        rounded = sorted({_round_to(float(x), step) for x in inner})
        kept = tuple(r for r in rounded if low < r < high)
        if kept:
            return kept
        step = _nice_step(step / 2)
    return ()


def _nice_step(limit: float) -> float:
    """The largest of 1, 2, 5 × 10^p that is at most ``limit`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(limit))
    for factor in (5.0, 2.0, 1.0):
        if factor * power <= limit * (1 + 1e-12):
            return factor * power
    return power  # pragma: no cover - factor 1 always fits


def _round_to(value: float, step: float) -> float:
    """``value`` rounded to a multiple of ``step``, without float dust (0.30000000000000004)."""
    rounded = round(value / step) * step
    digits = max(0, -math.floor(math.log10(step))) + 1
    return float(round(rounded, digits)) + 0.0


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
