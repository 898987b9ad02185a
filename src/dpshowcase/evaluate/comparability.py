"""Data comparability: the synthetic count of a selection beside its protected count.

A person who filters the synthetic records (age 39–47 *and* trafficked 13–24 months)
gets a synthetic count; the release may also hold the protected count of the same
combination, which is the better evidence. This module puts the two side by side:

- the **protected count**: the count in ``aggregates.csv`` of the combination the
  selection names — *not released* when the selection has more attributes than the
  reporting length R (never counted), or when the combination was suppressed (its
  protected count fell below the threshold; it may also not occur at all);
- the **synthetic count**: synthetic records holding every selected attribute;
- their **ratio** synthetic / protected, and a **label**: "agrees" when the synthetic
  count lies within ±``tolerance`` (default 10%) of the protected one, "differs"
  otherwise, "not released" when there is no protected count to compare with.

:func:`agree` is the one rule of agreement: the report, the command line and the web
app all count "within 10%" with it.

:func:`largest_disagreements` lists the released combinations whose synthetic count
strays furthest from the protected one (none when they all agree exactly).

A selected value the release does not hold (a typo, ``female`` for ``Female``) is an
error naming the nearest values the release does hold, not a quiet "not released".
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from dpshowcase.errors import ParameterError
from dpshowcase.evaluate._space import canonical_label
from dpshowcase.schema.model import ColumnKind, Schema

__all__ = [
    "TOLERANCE",
    "Comparability",
    "agree",
    "compare_selection",
    "largest_disagreements",
    "parse_selection",
    "synthetic_count",
]

TOLERANCE = 0.10
"""Synthetic and protected counts "agree" when their ratio is within 1 ± this."""

Label = Literal["agrees", "differs", "not released"]


def agree(
    synthetic: npt.ArrayLike, protected: npt.ArrayLike, tolerance: float = TOLERANCE
) -> np.ndarray:
    """Whether each synthetic count is within ±``tolerance`` of its protected count.

    ``|s − p| ≤ tolerance · p``, in that form so that 11 against 10 agrees at 10%
    (as a ratio, 11/10 − 1 is 0.10000000000000009 in floating point); a published 0
    agrees only with 0.
    """
    s = np.asarray(synthetic, dtype=np.float64)
    p = np.asarray(protected, dtype=np.float64)
    return np.abs(s - p) <= tolerance * p


@dataclass(frozen=True)
class Comparability:
    """One selection of attributes: protected and synthetic counts side by side."""

    selection: tuple[tuple[str, str], ...]
    """The (column, value) pairs, in schema order."""
    combination: str
    """The selection written as in aggregates.csv."""
    length: int
    protected_count: int | None
    """None when not released (see ``reason``)."""
    synthetic_count: int
    ratio: float | None
    """synthetic / protected, or None without a protected count."""
    label: Label
    reason: str
    """One plain sentence saying why the label is what it is."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for JSON)."""
        out = asdict(self)
        out["selection"] = [list(p) for p in self.selection]
        return out


def parse_selection(items: Iterable[str]) -> list[tuple[str, str]]:
    """``["ageBroad=39--47", "traffickMonths=13--24 (1-2 yrs)"]`` → (column, value) pairs."""
    pairs = []
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column.strip():
            raise ParameterError(
                f"The selection {item!r} is not of the form column=value "
                '(e.g. --select ageBroad=39--47 or --select "traffickMonths=13--24 (1-2 yrs)").'
            )
        pairs.append((column.strip(), value))
    return pairs


def compare_selection(
    selection: Sequence[tuple[str, str]] | Mapping[str, str],
    *,
    synthetic: pl.DataFrame,
    schema: Schema,
    protected: pl.DataFrame | None,
    reporting_length: int,
    tolerance: float = TOLERANCE,
) -> Comparability:
    """Compare the synthetic and the protected count of ``selection`` (module docstring).

    ``protected`` is the ``combination, length, count`` table of the release (None or
    empty when the release holds none: every label is then "not released").
    """
    pairs = list(selection.items()) if isinstance(selection, Mapping) else list(selection)
    if not pairs:
        raise ParameterError("Select at least one attribute, e.g. --select ageBroad=39--47.")
    if not 0 <= tolerance < 1:
        raise ParameterError(f"The tolerance must lie in [0, 1), not {tolerance!r}.")
    _check_columns(pairs, schema)
    _check_values(pairs, synthetic, schema, protected)
    label = canonical_label(pairs, schema.column_names)
    ordered = tuple(_ordered(pairs, schema))
    length = len(pairs)
    count = synthetic_count(synthetic, pairs, schema)

    protected_count: int | None = None
    if length > reporting_length:
        reason = (
            f"No protected count: the selection has {length} attributes and counts were "
            f"released for at most {reporting_length}; only the synthetic count exists, "
            "and patterns of this many attributes were never measured."
        )
    elif protected is None or protected.height == 0:
        reason = "No protected count: this release holds no protected counts."
    else:
        hit = protected.filter(pl.col("combination") == label)
        if hit.height:
            protected_count = int(hit.get_column("count")[0])
            reason = ""
        else:
            reason = (
                "No protected count: this combination was suppressed (its protected count "
                "fell below the release threshold) or does not occur in the data."
            )
    if protected_count is None:
        return Comparability(ordered, label, length, None, count, None, "not released", reason)
    ratio = count / protected_count if protected_count > 0 else None
    agrees = bool(agree(count, protected_count, tolerance))
    gap = f"{(ratio - 1.0):+.0%}" if ratio is not None else ("+0%" if agrees else "n/a")
    reason = (
        f"The synthetic count is within {tolerance:.0%} of the protected count ({gap})."
        if agrees
        else f"The synthetic count differs from the protected count by {gap}; "
        "use the protected count."
    )
    return Comparability(
        ordered,
        label,
        length,
        protected_count,
        count,
        ratio,
        "agrees" if agrees else "differs",
        reason,
    )


def synthetic_count(
    synthetic: pl.DataFrame, pairs: Sequence[tuple[str, str]], schema: Schema
) -> int:
    """Synthetic records holding every (column, value) of ``pairs``."""
    condition = pl.lit(True)
    for column, value in pairs:
        if column not in synthetic.columns:
            return 0
        cell = pl.col(column).cast(pl.String)
        spec = schema.column(column)
        if spec.kind is ColumnKind.MULTI_VALUE:
            held = cell.str.split(spec.delimiter).list.eval(pl.element().str.strip_chars())
            condition = condition & held.list.contains(value).fill_null(False)
        else:
            condition = condition & (cell.str.strip_chars() == value).fill_null(False)
    return int(synthetic.select(condition.sum()).item())


def largest_disagreements(
    protected: pl.DataFrame,
    synthetic_counts: pl.DataFrame,
    *,
    top: int = 20,
    min_count: int = 1,
) -> pl.DataFrame:
    """Released combinations whose synthetic count strays furthest from the protected one.

    Only real disagreements are listed (a difference of 0 is none): the table is empty
    when the synthetic records reproduce every protected count. Both tables are
    ``combination, length, count``; a combination absent from the synthetic counts has
    synthetic count 0. Rows are ranked by the absolute difference
    (the number of records a reader would be misled by), ties by the relative one.
    Columns: combination, length, protected, synthetic, difference, ratio.
    """
    joined = (
        protected.select("combination", "length", pl.col("count").alias("protected"))
        .filter(pl.col("protected") >= min_count)
        .join(
            synthetic_counts.select("combination", pl.col("count").alias("synthetic")),
            on="combination",
            how="left",
        )
        .with_columns(pl.col("synthetic").fill_null(0))
        .with_columns(
            (pl.col("synthetic") - pl.col("protected")).alias("difference"),
            (pl.col("synthetic") / pl.col("protected")).alias("ratio"),
        )
    )
    return (
        joined.filter(pl.col("difference") != 0)
        .sort([pl.col("difference").abs(), (pl.col("ratio") - 1.0).abs()], descending=True)
        .head(top)
    )


def _nearest(wanted: str, known: Sequence[str]) -> list[str]:
    """The known names closest to ``wanted`` (case ignored first), best first."""
    by_case = [k for k in known if k.casefold() == wanted.casefold()]
    if by_case:  # only the case is wrong: that is the answer
        return by_case[:3]
    folded = {k.casefold(): k for k in known}
    close = difflib.get_close_matches(wanted.casefold(), list(folded), n=3, cutoff=0.5)
    return [folded[c] for c in close]


def _suggestion(wanted: str, known: Sequence[str], what: str) -> str:
    nearest = _nearest(wanted, known)
    if nearest:
        return "did you mean " + " or ".join(repr(n) for n in nearest) + "?"
    shown = ", ".join(repr(k) for k in list(known)[:10]) + (" …" if len(known) > 10 else "")
    return f"its {what} are {shown}." if known else f"it has no {what}."


def _check_columns(pairs: list[tuple[str, str]], schema: Schema) -> None:
    known = set(schema.column_names)
    for column, _ in pairs:
        if column not in known:
            raise ParameterError(
                f"The release has no column {column!r}; "
                + _suggestion(column, schema.column_names, "columns")
            )
    seen: dict[str, str] = {}
    for column, value in pairs:
        spec = schema.column(column)
        if column in seen and spec.kind is not ColumnKind.MULTI_VALUE:
            raise ParameterError(
                f"Column {column!r} is selected twice ({seen[column]!r} and {value!r}); a "
                "record holds one value of it, so the count would be 0."
            )
        seen[column] = value


def _released_values(column: str, synthetic: pl.DataFrame, schema: Schema) -> list[str]:
    """The values of ``column`` the release shows: in the synthetic records or counted."""
    values: set[str] = set()
    if column in synthetic.columns:
        cells = synthetic.get_column(column).cast(pl.String).drop_nulls()
        spec = schema.column(column)
        if spec.kind is ColumnKind.MULTI_VALUE:
            cells = cells.str.split(spec.delimiter).explode()
        values.update(v for v in cells.str.strip_chars().unique().to_list() if v)
    return sorted(values)


def _check_values(
    pairs: list[tuple[str, str]],
    synthetic: pl.DataFrame,
    schema: Schema,
    protected: pl.DataFrame | None,
) -> None:
    """ParameterError for a value the release does not hold, naming the nearest ones.

    A value is known when synthetic records hold it or the release counted it alone;
    anything else (a typo, a wrong case) would only ever answer "not released".
    """
    counted = (
        set(protected.filter(pl.col("length") == 1).get_column("combination").to_list())
        if protected is not None and protected.height
        else set()
    )
    for column, value in pairs:
        if canonical_label([(column, value)], schema.column_names) in counted:
            continue
        known = _released_values(column, synthetic, schema)
        if value in known:
            continue
        raise ParameterError(
            f"The release holds no value {value!r} in column {column!r}; "
            + _suggestion(value, known, "values")
        )


def _ordered(pairs: list[tuple[str, str]], schema: Schema) -> list[tuple[str, str]]:
    order = {name: i for i, name in enumerate(schema.column_names)}
    return sorted(pairs, key=lambda p: (order[p[0]], p[1]))
