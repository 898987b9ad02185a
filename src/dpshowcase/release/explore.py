"""Exploring a written release bundle: synthetic counts beside protected counts.

Everything here reads the bundle's public files only (manifest.json, aggregates.csv,
synthetic.parquet), so it can run anywhere the release may go. Two views:

- :meth:`ReleaseExplorer.select`: for a chosen set of attributes, the synthetic count
  beside the protected count (the *data comparability* figure), and for every value of
  every column the same pair once that value is added to the selection;
- :func:`compare_release`: for every released combination, how far the synthetic count
  is from the protected one, summarised per length.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pycountry

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.data.attributes import escape, natural_key
from dpshowcase.data.encode import encode_public
from dpshowcase.errors import InputError, ParameterError
from dpshowcase.evaluate.comparability import agree
from dpshowcase.evaluate.release_files import PublicRelease, load_release
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema

__all__ = ["ReleaseExplorer", "Selection", "ValueCounts", "compare_release"]

ISO3_MIN_SHARE = 0.8
"""A column is drawn on the world map when this share of its values are ISO-3 codes."""


@dataclass(frozen=True)
class ValueCounts:
    """One attribute's counts under a selection."""

    value: str
    protected: int | None
    """Protected count of selection + this attribute; None when longer than R (not
    released at that length), 0 when the combination was not released."""
    synthetic: int
    """Synthetic records holding the selection and this attribute."""


@dataclass(frozen=True)
class Selection:
    """Counts for a selection of attributes and for each attribute added to it."""

    attributes: tuple[tuple[str, str], ...]
    """The selected ``(column, value)`` pairs, in release order."""
    protected: int | None
    """Protected count of the selection (the protected record count when empty); None
    when the selection is longer than the reporting length."""
    synthetic: int
    """Synthetic records holding every selected attribute."""
    columns: dict[str, list[ValueCounts]]
    """For each column, every value's counts once added to the selection."""

    @property
    def gap(self) -> float | None:
        """(synthetic − protected) / protected, or None without a protected count."""
        if not self.protected:
            return None
        return (self.synthetic - self.protected) / self.protected


class ReleaseExplorer:
    """Answer selection queries on a release bundle (read by :func:`load_release`)."""

    def __init__(self, bundle: Path | PublicRelease) -> None:
        release = bundle if isinstance(bundle, PublicRelease) else load_release(bundle)
        if release.protected is None or release.synthetic is None:
            raise InputError(
                f"{release.path} lacks aggregates.csv or the synthetic records; exploring "
                "needs both."
            )
        self.path = release.path
        self.schema: Schema = release.schema
        self.columns: tuple[str, ...] = tuple(release.synthetic.columns)
        self.record_count = release.record_count or 0
        self.parameters: dict[str, Any] = release.parameters
        self.aggregates = release.protected
        self.reporting_length = release.reporting_length
        self._protected = dict(
            zip(
                self.aggregates.get_column("combination").to_list(),
                self.aggregates.get_column("count").to_list(),
                strict=True,
            )
        )
        self.synthetic = release.synthetic
        self._order = {name: i for i, name in enumerate(self.schema.column_names)}

    # -- attributes -------------------------------------------------------------------

    def _spec(self, column: str) -> ColumnSpec:
        return self.schema.column(column)

    def _values(self, frame: pl.DataFrame, column: str) -> pl.DataFrame:
        """``value, count`` of a column's attributes in ``frame`` (multi-value split)."""
        spec = self._spec(column)
        series = frame.get_column(column)
        if spec.kind is ColumnKind.MULTI_VALUE:
            series = series.str.split(spec.delimiter).explode().str.strip_chars()
        series = series.filter(series != "")
        return series.value_counts(name="count").rename({column: "value"})

    @cached_property
    def attributes(self) -> dict[str, list[str]]:
        """Every released value of every column, in release order."""
        out: dict[str, list[str]] = {}
        for column in self.columns:
            values = set(self._values(self.synthetic, column).get_column("value").to_list())
            prefix = escape(column) + ":"
            for label in self.aggregates.filter(pl.col("length") == 1).get_column("combination"):
                if label.startswith(prefix):
                    values.add(_unescape(label[len(prefix) :]))
            out[column] = sorted(values, key=natural_key)
        return out

    def label(self, attributes: Sequence[tuple[str, str]]) -> str:
        """The combination label of ``attributes`` as aggregates.csv writes it."""
        ordered = sorted(attributes, key=lambda a: (self._order[a[0]], natural_key(a[1])))
        return ";".join(f"{escape(c)}:{escape(v)}" for c, v in ordered)

    def protected_count(self, attributes: Sequence[tuple[str, str]]) -> int | None:
        """The protected count of a combination (0: not released; None: longer than R)."""
        if not attributes:
            return self.record_count
        if len(attributes) > self.reporting_length:
            return None
        return int(self._protected.get(self.label(attributes), 0))

    def _mask(self, attributes: Sequence[tuple[str, str]]) -> pl.Expr:
        expr = pl.lit(True)
        for column, value in attributes:
            spec = self._spec(column)
            if spec.kind is ColumnKind.MULTI_VALUE:
                held = (
                    pl.col(column)
                    .str.split(spec.delimiter)
                    .list.eval(pl.element().str.strip_chars())
                    .list.contains(value)
                )
            else:
                held = pl.col(column) == value
            expr = expr & held
        return expr

    # -- queries ----------------------------------------------------------------------

    def check_selection(self, attributes: Sequence[Sequence[str]]) -> tuple[tuple[str, str], ...]:
        """Validate a selection: known columns, one value per single-valued column."""
        pairs: list[tuple[str, str]] = []
        for item in attributes:
            if len(item) != 2:
                raise ParameterError("A selected attribute is a pair [column, value].")
            column, value = str(item[0]), str(item[1])
            if column not in self._order:
                raise ParameterError(f"The release has no column {column!r}.")
            if (column, value) in pairs:
                continue
            spec = self._spec(column)
            if spec.kind is not ColumnKind.MULTI_VALUE and any(c == column for c, _ in pairs):
                raise ParameterError(
                    f"Column {column!r} holds one value per record; select one value of it."
                )
            pairs.append((column, value))
        return tuple(sorted(pairs, key=lambda a: (self._order[a[0]], natural_key(a[1]))))

    def select(self, attributes: Sequence[Sequence[str]]) -> Selection:
        """Counts of the selection and of each attribute added to it."""
        pairs = self.check_selection(attributes)
        chosen = self.synthetic.filter(self._mask(pairs)) if pairs else self.synthetic
        selected_columns = {c for c, _ in pairs}
        columns: dict[str, list[ValueCounts]] = {}
        for column in self.columns:
            spec = self._spec(column)
            if column in selected_columns and spec.kind is not ColumnKind.MULTI_VALUE:
                continue
            synthetic = dict(self._values(chosen, column).iter_rows())
            rows = []
            for value in self.attributes[column]:
                if (column, value) in pairs:
                    continue
                extended = (*pairs, (column, value))
                rows.append(
                    ValueCounts(
                        value=value,
                        protected=self.protected_count(extended),
                        synthetic=int(synthetic.get(value, 0)),
                    )
                )
            columns[column] = rows
        return Selection(
            attributes=pairs,
            protected=self.protected_count(pairs),
            synthetic=chosen.height,
            columns=columns,
        )

    @cached_property
    def iso3_columns(self) -> dict[str, dict[str, str]]:
        """Columns of ISO-3 country codes: ``{column: {ISO-3: ISO-2}}``."""
        out: dict[str, dict[str, str]] = {}
        for column, values in self.attributes.items():
            if not values:
                continue
            codes = {}
            for value in values:
                if len(value) == 3 and value.isalpha() and value.isupper():
                    country = pycountry.countries.get(alpha_3=value)
                    if country is not None:
                        codes[value] = country.alpha_2
            if len(codes) >= ISO3_MIN_SHARE * len(values):
                out[column] = codes
        return out


def compare_release(bundle: Path) -> dict[str, Any]:
    """How closely the synthetic records reproduce every released count, per length.

    For each length k: released combinations (the rows of aggregates.csv), mean
    absolute and relative error of their synthetic counts, the share within 10% of the
    protected count (:func:`~dpshowcase.evaluate.comparability.agree`, the rule and the
    rows of the report's agreement), combinations the synthetic data hold but the release
    does not (fabricated beyond the release), and released combinations with a positive
    count absent from the synthetic data.
    """
    explorer = ReleaseExplorer(bundle)
    r = explorer.reporting_length
    synthetic_counts = count_combinations(
        encode_public(explorer.synthetic, explorer.schema.as_released()), r
    ).to_frame()
    joined = explorer.aggregates.rename({"count": "protected"}).join(
        synthetic_counts.rename({"count": "synthetic", "length": "synthetic_length"}),
        on="combination",
        how="full",
        coalesce=True,
    )
    joined = joined.with_columns(
        pl.col("protected").is_not_null().alias("released"),
        pl.col("protected").fill_null(0),
        pl.col("synthetic").fill_null(0),
        pl.coalesce("length", "synthetic_length").alias("length"),
    )
    lengths = []
    for k in range(1, r + 1):
        part = joined.filter(pl.col("length") == k)
        released = part.filter(pl.col("released"))
        p = released.get_column("protected").to_numpy().astype(np.float64)
        s = released.get_column("synthetic").to_numpy().astype(np.float64)
        relative = np.abs(s - p) / np.maximum(p, 1.0)
        lengths.append(
            {
                "length": k,
                "released": int(released.height),
                "mean_absolute_error": _round(np.abs(s - p).mean()) if p.size else None,
                "mean_relative_error": _round(relative.mean()) if p.size else None,
                "within_10_percent": _round(agree(s, p).mean()) if p.size else None,
                "fabricated": int(part.filter(~pl.col("released")).height),
                "missing": int(((s == 0) & (p > 0)).sum()),
            }
        )
    return {
        "protected_record_count": explorer.record_count,
        "synthetic_records": explorer.synthetic.height,
        "reporting_length": r,
        "lengths": lengths,
    }


def _round(value: float) -> float:
    return round(float(value), 4) if math.isfinite(value) else 0.0


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)
