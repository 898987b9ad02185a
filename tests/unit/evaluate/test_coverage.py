"""Coverage tables: counts per value per source, and what was suppressed."""

from __future__ import annotations

import polars as pl

from dpshowcase.evaluate.coverage import COUNTRY_OF_EXPLOITATION, column_coverage, single_counts


def _singles(rows):
    return pl.DataFrame(
        rows, schema={"column": pl.String, "value": pl.String, "count": pl.Int64}, orient="row"
    )


def test_single_counts_parse_escaped_labels():
    table = pl.DataFrame(
        {
            "combination": ["a:x", "a:y\\;z", "a:x;b:1"],
            "length": [1, 1, 2],
            "count": [3, 2, 1],
        }
    )
    out = single_counts(table)
    assert out.rows() == [("a", "x", 3), ("a", "y;z", 2)]


def test_suppressed_values_and_unreleased_records():
    sensitive = _singles([("c", "FRA", 50), ("c", "USA", 30), ("c", "ISL", 2)])
    protected = _singles([("c", "FRA", 52), ("c", "USA", 29)])
    synthetic = _singles([("c", "FRA", 51), ("c", "USA", 30)])
    cov = column_coverage(
        "c",
        multi_value=False,
        sensitive=sensitive,
        protected=protected,
        synthetic=synthetic,
        record_count=100,
    )
    assert cov.values == ["FRA", "USA", "ISL"]  # by protected count, then the rest
    assert cov.protected == [52, 29, 0]
    assert cov.sensitive == [50, 30, 2]
    assert cov.suppressed_values == ["ISL"]
    assert cov.suppressed_records == 2
    # 100 protected records − (52 + 29) released = 19 with no released value
    assert cov.unreleased_records == 19
    public = column_coverage(
        "c",
        multi_value=False,
        sensitive=None,
        protected=protected,
        synthetic=None,
        record_count=100,
    )
    assert public.suppressed_values is None
    assert public.sensitive is None
    assert public.unreleased_records == 19


def test_country_of_exploitation_names():
    assert COUNTRY_OF_EXPLOITATION.search("CountryOfExploitation")
    assert COUNTRY_OF_EXPLOITATION.search("country_of_exploitation")
    assert not COUNTRY_OF_EXPLOITATION.search("citizenship")
