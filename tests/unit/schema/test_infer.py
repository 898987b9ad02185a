"""Schema inference on hand-made tables and on the public CTDC file."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from dpshowcase.data.encode import encode
from dpshowcase.data.load import read_table
from dpshowcase.errors import SchemaError
from dpshowcase.schema.infer import ColumnReport, infer_schema
from dpshowcase.schema.model import ColumnKind

N = 200


def _frame(**columns: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


def _reports(reports: list[ColumnReport]) -> dict[str, ColumnReport]:
    return {r.name: r for r in reports}


def test_a_few_delimited_cells_make_a_multi_value_column() -> None:
    frame = _frame(
        IP_Gender=["Female"] * 100 + ["Male"] * 90 + ["Female;Male"] * 10,
        gender=["Female", "Male"] * 100,
    )
    schema, reports = infer_schema(frame)
    assert schema.column("IP_Gender").kind is ColumnKind.MULTI_VALUE
    assert schema.column("IP_Gender").delimiter == ";"
    assert schema.column("gender").kind is ColumnKind.CATEGORICAL
    assert _reports(reports)["IP_Gender"].decision == "multi_value"


def test_multi_value_with_another_delimiter() -> None:
    frame = _frame(c=["a|b", "a", "b", "c|a"] * 10)
    schema, _ = infer_schema(frame, delimiter="|")
    assert schema.column("c").kind is ColumnKind.MULTI_VALUE
    assert schema.column("c").delimiter == "|"
    assert infer_schema(frame)[0].column("c").kind is ColumnKind.CATEGORICAL


def test_many_distinct_numbers_make_a_numeric_column_with_open_nice_bins() -> None:
    ages = [str(3 + (i * 7) % 80) for i in range(N)]  # 3..82, many distinct
    frame = _frame(age=ages, gender=["F", "M"] * (N // 2))
    schema, reports = infer_schema(frame, bins=4)
    spec = schema.column("age")
    assert spec.kind is ColumnKind.NUMERIC
    assert spec.bins is not None
    assert spec.open_ended
    assert spec.edges == "inferred"
    values = [float(a) for a in ages]
    # never a data extreme: every edge lies strictly inside the data
    assert all(min(values) < e < max(values) for e in spec.bins)
    assert all(e % 10 == 0 for e in spec.bins)  # ages round to tens
    assert 1 <= len(spec.bins) <= 3
    assert _reports(reports)["age"].decision == "numeric"
    # the proposed bins work: encoding puts every value in a bin
    data = encode(frame, schema)
    assert (data.record_lengths() == 2).all()
    index = data.attributes
    labels = [
        v
        for c, v in zip(index.attribute_column, index.attribute_value, strict=True)
        if index.columns[c] == "age"
    ]
    assert labels[0].startswith("< ")
    assert labels[-1].startswith("≥ ")


def test_a_planted_extreme_never_becomes_an_edge_or_a_label() -> None:
    ages = [str(18 + (i * 3) % 35) for i in range(N - 1)] + ["117"]  # 18..52, then 117
    frame = _frame(age=ages)
    schema, _ = infer_schema(frame)
    spec = schema.column("age")
    assert spec.bins is not None
    assert 117.0 not in spec.bins
    assert 18.0 not in spec.bins
    values = encode(frame, schema).attributes.attribute_value
    assert not any("117" in v or "18" in v.split("--")[0] for v in values), values
    assert values[-1].startswith("≥ ")


def test_fractional_numbers_get_round_edges_inside_their_range() -> None:
    values = [f"{0.013 * i + 0.5:.3f}" for i in range(N)]
    frame = _frame(score=values)
    schema, _ = infer_schema(frame)
    spec = schema.column("score")
    assert spec.kind is ColumnKind.NUMERIC
    assert spec.bins is not None
    assert spec.open_ended
    numbers = [float(v) for v in values]
    assert all(min(numbers) < e < max(numbers) for e in spec.bins)
    assert all(round(e, 1) == e for e in spec.bins)  # 0.5..3.1 rounds to tenths at most
    assert (encode(frame, schema).record_lengths() == 1).all()


def test_whole_numbers_nearly_all_distinct_are_an_identifier() -> None:
    phones = [str(4_412_345_678_901 + 7919 * i) for i in range(N)]  # 13 digits, all distinct
    frame = _frame(phone=phones, gender=["F", "M"] * (N // 2))
    schema, reports = infer_schema(frame)
    assert "phone" not in schema.column_names
    assert _reports(reports)["phone"].decision == "left out"
    assert "identifier" in _reports(reports)["phone"].note


def test_few_distinct_numbers_stay_categorical() -> None:
    frame = _frame(year=[str(2015 + i % 8) for i in range(N)])
    schema, _ = infer_schema(frame)
    assert schema.column("year").kind is ColumnKind.CATEGORICAL


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(["0", "1"], id="zero-one"),
        pytest.param(["1", ""], id="one-and-empty"),
        pytest.param(["0.0", "1.0"], id="float-flag"),
    ],
)
def test_a_flag_is_categorical_with_zero_as_absence(values: list[str]) -> None:
    frame = _frame(isForcedLabour=values * (N // 2))
    schema, reports = infer_schema(frame)
    spec = schema.column("isForcedLabour")
    assert spec.kind is ColumnKind.CATEGORICAL
    assert not spec.sensitive_zero
    assert "0 is absence" in _reports(reports)["isForcedLabour"].note
    data = encode(frame, schema)
    assert data.attributes.n_attributes == 1  # only the 1 is an attribute


def test_zero_among_other_codes_is_a_sensitive_zero() -> None:
    frame = _frame(children=["0", "1", "2", "3"] * (N // 4))
    schema, reports = infer_schema(frame)
    spec = schema.column("children")
    assert spec.kind is ColumnKind.CATEGORICAL
    assert spec.sensitive_zero
    assert "sensitive zero" in _reports(reports)["children"].note
    assert encode(frame, schema).attributes.find("children", "0") is not None


def test_identifier_like_column_is_left_out() -> None:
    frame = _frame(caseId=[f"case-{i:04d}" for i in range(N)], gender=["F", "M"] * (N // 2))
    schema, reports = infer_schema(frame)
    assert schema.column_names == ("gender",)
    report = _reports(reports)["caseId"]
    assert report.decision == "left out"
    assert "identifier" in report.note
    assert report.distinct == N


def test_empty_column_is_left_out() -> None:
    frame = _frame(notes=[None] * 10 + [""] * 10, gender=["F", "M"] * 10)
    schema, reports = infer_schema(frame)
    assert schema.column_names == ("gender",)
    report = _reports(reports)["notes"]
    assert report.decision == "left out"
    assert report.empty_share == 1.0


def test_null_tokens_count_as_empty() -> None:
    frame = _frame(notes=["N"] * 20, gender=["F", "M"] * 10)
    schema, reports = infer_schema(frame, null_values=("N",))
    assert schema.column_names == ("gender",)
    assert "N" in schema.null_values
    assert _reports(reports)["gender"].empty_share == 0.0


def test_subject_id_is_recorded_and_not_an_attribute() -> None:
    frame = _frame(sid=["s1", "s1", "s2", "s3"] * 10, gender=["F", "M"] * 20)
    schema, reports = infer_schema(frame, subject_id="sid")
    assert schema.subject_id == "sid"
    assert schema.column_names == ("gender",)
    assert _reports(reports)["sid"].decision == "subject id"


def test_subject_id_must_exist() -> None:
    with pytest.raises(SchemaError, match="no column 'who' to use as subject id"):
        infer_schema(_frame(gender=["F"]), subject_id="who")


def test_nothing_usable_is_an_error() -> None:
    frame = _frame(caseId=[f"id{i}" for i in range(50)], empty=[None] * 50)
    with pytest.raises(SchemaError, match="No column of the data can be used"):
        infer_schema(frame)


def test_report_has_one_line_per_column_in_order() -> None:
    frame = _frame(b=["x"], a=["y"], c=[None])
    _, reports = infer_schema(frame)
    assert [r.name for r in reports] == ["b", "a", "c"]


def test_a_file_laid_out_like_ctdc(ctdc_like_csv: Path) -> None:
    frame = read_table(ctdc_like_csv)
    schema, reports = infer_schema(frame)
    for name in ("IP_Gender", "IP_Relation", "IP_PayMoney"):
        assert schema.column(name).kind is ColumnKind.MULTI_VALUE, name
    for name in ("isForcedLabour", "isSexualExploit", "IP_Exploiter", "IP_RecruiterBroker"):
        spec = schema.column(name)
        assert spec.kind is ColumnKind.CATEGORICAL, name
        assert not spec.sensitive_zero, name
    for name in ("gender", "majorityStatus", "yearRegister"):
        assert schema.column(name).kind is ColumnKind.CATEGORICAL, name
    assert len(reports) == frame.width
    data = encode(frame, schema)
    assert data.n_records == frame.height
    gender = schema.column_names.index("IP_Gender")
    assert data.attributes.find("IP_Gender", "Female;Male") is None
    assert data.attributes.find("IP_Gender", "Female") is not None
    assert data.attributes.find("IP_Gender", "Male") is not None
    assert data.attributes.multi_value[gender]
