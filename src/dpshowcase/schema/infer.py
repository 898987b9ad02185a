"""Proposing a schema from the data, for a person to check and edit.

The rules are few and printed with their reasons:

- a column with no values is left out;
- a column where nearly every value is distinct looks like an identifier and is left
  out (an identifier must never be released);
- a column where some cells hold several values joined by the delimiter is
  multi-value;
- a column of numbers with many distinct values is numeric, binned at edges taken
  from its quantiles (rounded; replace them with edges chosen without looking at the
  data before a DP release: data-derived edges reveal a little about the data);
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
    IDENTIFIER_DISTINCT_SHARE,
    IDENTIFIER_MIN_VALUES,
    ZERO_VALUES,
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
    if is_numeric and distinct > NUMERIC_MIN_DISTINCT:
        edges = _nice_edges(numbers.to_numpy(), bins)
        return (
            ColumnSpec(name=name, kind=ColumnKind.NUMERIC, bins=edges),
            "numeric",
            f"binned at {', '.join(_fmt(e) for e in edges)} (from the data's quantiles)",
        )
    if distinct >= IDENTIFIER_MIN_VALUES and distinct > IDENTIFIER_DISTINCT_SHARE * n:
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


def _nice_edges(values: np.ndarray, bins: int) -> tuple[float, ...]:
    """Quantile edges rounded to a step of the data's scale, covering the data.

    The step is the power of ten just below the narrowest gap between quantiles, so
    edges of years stay whole years and edges of incomes round to thousands. The last
    bin is closed, so the top edge is the largest value itself.
    """
    low, high = float(values.min()), float(values.max())
    inner = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    gaps = np.diff(np.concatenate([[low], inner, [high]]))
    gaps = gaps[gaps > 0]
    step = 10.0 ** math.floor(math.log10(float(gaps.min()))) if gaps.size else 1.0
    if bool(np.all(np.floor(values) == values)):
        step = max(step, 1.0)
    rounded = {round(float(x) / step) * step for x in inner}
    return tuple(sorted({low, *[r for r in rounded if low < r < high], high}))


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
