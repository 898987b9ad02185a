"""Coverage: whose records a release holds, and what it leaves out.

Counter-trafficking case data describe the people that contributing organisations
identified, where they work: rows per country of exploitation and per data source say
more about coverage than about prevalence. This module tabulates, per column, the count
of every value in each available source (sensitive, protected, synthetic) and says what
was suppressed and why:

- with the sensitive data: the values found in the data but not released, and how many
  records hold them;
- from the release alone: how many records hold no released value of the column
  (protected record count − Σ protected counts of its values, for single-valued
  columns): records whose value is empty *or* suppressed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from dpshowcase.data.attributes import natural_key, split_combination

__all__ = [
    "COUNTRY_OF_EXPLOITATION",
    "DATA_SOURCE",
    "ColumnCoverage",
    "column_coverage",
    "single_counts",
]

COUNTRY_OF_EXPLOITATION = re.compile(r"country.?of.?exploitation|exploitation.?country", re.I)
"""Column names taken as the country of exploitation."""
DATA_SOURCE = re.compile(r"^data.?source$|^source$", re.I)
"""Column names taken as the data source."""


@dataclass(frozen=True)
class ColumnCoverage:
    """Counts of one column's values in each source, and what was suppressed."""

    column: str
    values: list[str]
    sensitive: list[int] | None
    protected: list[int] | None
    synthetic: list[int] | None
    suppressed_values: list[str] | None
    """Values in the sensitive data that the release does not hold (needs sensitive)."""
    suppressed_records: int | None
    """Sensitive records holding a suppressed value (needs sensitive)."""
    unreleased_records: int | None
    """Protected record count − Σ protected counts of the column's values."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for metrics.json."""
        return dict(self.__dict__)


def single_counts(table: pl.DataFrame) -> pl.DataFrame:
    """``column, value, count`` of the length-1 rows of a count table."""
    singles = table.filter(pl.col("length") == 1)
    rows = []
    for label, count in zip(
        singles.get_column("combination").to_list(),
        singles.get_column("count").to_list(),
        strict=True,
    ):
        ((column, value),) = split_combination(label)
        rows.append((column, value, int(count)))
    return pl.DataFrame(
        rows, schema={"column": pl.String, "value": pl.String, "count": pl.Int64}, orient="row"
    )


def column_coverage(
    column: str,
    *,
    multi_value: bool,
    sensitive: pl.DataFrame | None,
    protected: pl.DataFrame | None,
    synthetic: pl.DataFrame | None,
    record_count: int | None,
) -> ColumnCoverage:
    """Coverage of ``column`` from ``column, value, count`` tables of single attributes."""
    sources = {"sensitive": sensitive, "protected": protected, "synthetic": synthetic}
    found: dict[str, dict[str, int]] = {}
    for name, table in sources.items():
        if table is not None:
            part = table.filter(pl.col("column") == column)
            found[name] = dict(
                zip(
                    part.get_column("value").to_list(),
                    part.get_column("count").to_list(),
                    strict=True,
                )
            )
    values = sorted({v for counts in found.values() for v in counts}, key=natural_key)
    order = found.get("protected") or found.get("sensitive") or found.get("synthetic") or {}
    values.sort(key=lambda v: -order.get(v, 0))

    def column_of(name: str) -> list[int] | None:
        if name not in found:
            return None
        return [int(found[name].get(v, 0)) for v in values]

    suppressed_values = suppressed_records = None
    if "sensitive" in found and "protected" in found:
        missing = [v for v in values if v in found["sensitive"] and v not in found["protected"]]
        suppressed_values = missing
        suppressed_records = int(sum(found["sensitive"][v] for v in missing))
    unreleased = None
    if "protected" in found and record_count is not None and not multi_value:
        unreleased = max(int(record_count) - int(sum(found["protected"].values())), 0)
    return ColumnCoverage(
        column=column,
        values=values,
        sensitive=column_of("sensitive"),
        protected=column_of("protected"),
        synthetic=column_of("synthetic"),
        suppressed_values=suppressed_values,
        suppressed_records=suppressed_records,
        unreleased_records=unreleased,
    )
