"""Data comparability: synthetic vs protected counts of a selection."""

from __future__ import annotations

import polars as pl
import pytest

from dpshowcase.errors import ParameterError
from dpshowcase.evaluate.comparability import (
    compare_selection,
    largest_disagreements,
    parse_selection,
    synthetic_count,
)
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema

SCHEMA = Schema(
    columns=(
        ColumnSpec(name="age"),
        ColumnSpec(name="months"),
        ColumnSpec(name="means", kind=ColumnKind.MULTI_VALUE, delimiter="|"),
    )
)
# 10 synthetic records: age 39--47 with months "13--24 (1-2 yrs)" in 4 of them
SYNTHETIC = pl.DataFrame(
    {
        "age": ["39--47"] * 6 + ["18--20"] * 4,
        "months": ["13--24 (1-2 yrs)"] * 4 + [""] * 2 + ["13--24 (1-2 yrs)"] * 4,
        "means": ["debt|threats", "threats", "", "debt", "debt", "", "", "", "threats", ""],
    }
)
PROTECTED = pl.DataFrame(
    {
        "combination": [
            "age:39--47",
            "months:13--24 (1-2 yrs)",
            "age:39--47;months:13--24 (1-2 yrs)",
            "age:39--47;means:debt",
        ],
        "length": [1, 1, 2, 2],
        "count": [6, 9, 5, 3],
    }
)


def _compare(selection, protected=PROTECTED, r=2, tolerance=0.10):
    return compare_selection(
        selection,
        synthetic=SYNTHETIC,
        schema=SCHEMA,
        protected=protected,
        reporting_length=r,
        tolerance=tolerance,
    )


def test_the_papers_example_shape_differs():
    # synthetic 4, protected 5: ratio .8, a 20% gap -> "differs"
    result = _compare(parse_selection(["age=39--47", "months=13--24 (1-2 yrs)"]))
    assert result.combination == "age:39--47;months:13--24 (1-2 yrs)"
    assert (result.protected_count, result.synthetic_count) == (5, 4)
    assert result.ratio == pytest.approx(0.8)
    assert result.label == "differs"
    assert "-20%" in result.reason


def test_agrees_within_tolerance_in_any_order():
    result = _compare({"age": "39--47"})
    assert (result.protected_count, result.synthetic_count, result.label) == (6, 6, "agrees")
    # order of the selection does not matter; a 20% tolerance accepts the gap above
    loose = _compare([("months", "13--24 (1-2 yrs)"), ("age", "39--47")], tolerance=0.25)
    assert loose.label == "agrees"
    assert loose.selection == (("age", "39--47"), ("months", "13--24 (1-2 yrs)"))


def test_multi_value_cells_count_each_value():
    # "debt" is held by records 0, 3, 4 (all age 39--47) -> 3, protected 3
    result = _compare([("age", "39--47"), ("means", "debt")])
    assert (result.synthetic_count, result.protected_count, result.label) == (3, 3, "agrees")
    assert synthetic_count(SYNTHETIC, [("means", "threats")], SCHEMA) == 3


def test_longer_than_the_reporting_length_is_not_released():
    result = _compare([("age", "39--47"), ("months", "13--24 (1-2 yrs)"), ("means", "debt")])
    assert result.protected_count is None
    assert result.ratio is None
    assert result.label == "not released"
    assert "at most 2" in result.reason
    assert result.synthetic_count == 2  # records 0 and 3


def test_missing_protected_counts_are_handled():
    # a combination within R that the release does not hold: suppressed or absent
    suppressed = _compare([("months", "13--24 (1-2 yrs)"), ("means", "threats")])
    assert suppressed.label == "not released"
    assert suppressed.synthetic_count == 3
    assert "suppressed" in suppressed.reason
    # no protected counts at all (a release without aggregates.csv) or an empty table
    for protected in (None, PROTECTED.clear()):
        none = _compare({"age": "39--47"}, protected=protected)
        assert none.label == "not released"
        assert none.protected_count is None
        assert "holds no protected counts" in none.reason
    # a released value no synthetic record holds: synthetic 0, protected count given
    gone = _compare({"age": "39--47"}, protected=PROTECTED)
    assert gone.protected_count == 6
    only_counted = SYNTHETIC.with_columns(pl.lit("").alias("months"))
    result = compare_selection(
        {"months": "13--24 (1-2 yrs)"},
        synthetic=only_counted,
        schema=SCHEMA,
        protected=PROTECTED,
        reporting_length=2,
    )
    assert (result.synthetic_count, result.protected_count) == (0, 9)


def test_a_value_the_release_does_not_hold_is_an_error_naming_the_nearest():
    with pytest.raises(ParameterError, match=r"no value '39--4' in column 'age'; did you mean"):
        _compare({"age": "39--4"})
    with pytest.raises(ParameterError, match=r"no value 'DEBT' .* did you mean 'debt'\?"):
        _compare([("age", "39--47"), ("means", "DEBT")])
    with pytest.raises(ParameterError, match=r"no value 'zzzz'.*its values are '18--20', '39--47'"):
        _compare({"age": "zzzz"})
    with pytest.raises(ParameterError, match=r"no column 'Age'; did you mean 'age'\?"):
        _compare({"Age": "39--47"})


def test_bad_selections_are_refused_with_one_sentence():
    with pytest.raises(ParameterError, match="no column 'nope'"):
        _compare({"nope": "1"})
    with pytest.raises(ParameterError, match="selected twice"):
        _compare([("age", "39--47"), ("age", "18--20")])
    with pytest.raises(ParameterError, match="at least one"):
        _compare([])
    with pytest.raises(ParameterError, match="column=value"):
        parse_selection(["age"])
    with pytest.raises(ParameterError, match="tolerance"):
        _compare({"age": "39--47"}, tolerance=1.5)
    assert parse_selection(["a=b=c"]) == [("a", "b=c")]


def test_largest_disagreements_rank_by_absolute_gap():
    synthetic_counts = pl.DataFrame(
        {
            "combination": ["age:39--47", "months:13--24 (1-2 yrs)", "age:39--47;means:debt"],
            "length": [1, 1, 2],
            "count": [6, 8, 3],
        }
    )
    top = largest_disagreements(PROTECTED, synthetic_counts, top=3)
    # gaps: months -1, age+months absent -> -5, others 0
    assert top.get_column("combination").to_list()[:2] == [
        "age:39--47;months:13--24 (1-2 yrs)",
        "months:13--24 (1-2 yrs)",
    ]
    assert top.row(0, named=True)["synthetic"] == 0
    assert top.row(0, named=True)["ratio"] == 0.0
    assert top.height == 2  # the rows of difference 0 are no disagreement
    agreeing = PROTECTED.rename({"count": "c"}).with_columns(pl.col("c").alias("count"))
    assert largest_disagreements(PROTECTED, agreeing.drop("c"), top=3).height == 0


def test_a_published_zero_agrees_only_with_zero():
    import polars as pl

    from dpshowcase.evaluate.evaluation import _comparability

    protected = pl.DataFrame(
        {"combination": ["a:x", "a:y", "a:z"], "length": [1, 1, 1], "count": [0, 0, 10]}
    )
    synthetic = pl.DataFrame({"combination": ["a:y", "a:z"], "length": [1, 1], "count": [3, 10]})
    agreement = _comparability(protected, synthetic)["agreement_by_length"]["1"]
    # a:x 0 vs 0 agrees; a:y 0 vs 3 does not; a:z 10 vs 10 agrees
    assert (agreement["released"], agreement["agrees"]) == (3, 2)
