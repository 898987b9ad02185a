"""Encoding a table into records of attribute ids under a schema."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from dpshowcase.data.encode import SensitiveData, encode
from dpshowcase.data.prepare import prepare
from dpshowcase.errors import InputError, SchemaError
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema
from dpshowcase.schema.toml_io import save_schema


def _frame(**columns: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


def _labels(data: SensitiveData, i: int) -> list[str]:
    return [data.attributes.labels[a] for a in data.record(i)]


def _records(data: SensitiveData) -> list[list[str]]:
    return [_labels(data, i) for i in range(data.n_records)]


# --- absence ------------------------------------------------------------------------


def test_empty_cells_null_tokens_and_zero_are_absence() -> None:
    frame = _frame(g=["F", "", None, "  ", "N", "0", "M"])
    data = encode(frame, Schema(columns=(ColumnSpec(name="g"),), null_values=("N",)))
    assert _records(data) == [["g:F"], [], [], [], [], [], ["g:M"]]
    assert data.attributes.attribute_value == ("F", "M")


def test_zero_is_an_attribute_in_a_sensitive_zero_column() -> None:
    frame = _frame(kids=["0", "1", "", "2"])
    data = encode(frame, Schema(columns=(ColumnSpec(name="kids", sensitive_zero=True),)))
    assert _records(data) == [["kids:0"], ["kids:1"], [], ["kids:2"]]


def test_zero_written_as_a_float_is_absence_too() -> None:
    frame = _frame(flag=["1.0", "0.0", None])
    data = encode(frame, Schema.all_categorical(["flag"]))
    assert _records(data) == [["flag:1.0"], [], []]


def test_null_tokens_apply_to_every_kind() -> None:
    frame = _frame(c=["x", "NA"], n=["5", "NA"], m=["a;NA", "NA"])
    schema = Schema(
        columns=(
            ColumnSpec(name="c"),
            ColumnSpec(name="n", kind=ColumnKind.NUMERIC, bins=(0, 10)),
            ColumnSpec(name="m", kind=ColumnKind.MULTI_VALUE),
        ),
        null_values=("NA",),
    )
    assert _records(encode(frame, schema)) == [["c:x", "n:0--10", "m:a"], []]


def test_values_are_stripped() -> None:
    frame = _frame(g=[" F", "F ", "M"])
    data = encode(frame, Schema.all_categorical(["g"]))
    assert data.attributes.attribute_value == ("F", "M")
    assert _records(data) == [["g:F"], ["g:F"], ["g:M"]]


# --- multi-value --------------------------------------------------------------------


def _multi(frame: pl.DataFrame, **kwargs: object) -> SensitiveData:
    spec = ColumnSpec(name="m", kind=ColumnKind.MULTI_VALUE, **kwargs)  # type: ignore[arg-type]
    return encode(frame, Schema(columns=(spec,)))


def test_multi_value_cell_holds_each_value() -> None:
    data = _multi(_frame(m=["a;b", "b", "a; a", " c ;a ", "", None, ";", "0;b"]))
    assert data.attributes.attribute_value == ("a", "b", "c")
    assert _records(data) == [
        ["m:a", "m:b"],
        ["m:b"],
        ["m:a"],  # a repeated value counts once
        ["m:a", "m:c"],
        [],
        [],
        [],
        ["m:b"],  # 0 is absence outside sensitive-zero columns
    ]


def test_multi_value_with_other_delimiter_keeps_semicolons() -> None:
    data = _multi(_frame(m=["a|b;c", "b;c"]), delimiter="|")
    assert data.attributes.attribute_value == ("a", "b;c")
    assert _records(data) == [["m:a", "m:b\\;c"], ["m:b\\;c"]]


def test_multi_value_sensitive_zero() -> None:
    data = _multi(_frame(m=["0;1", "2"]), sensitive_zero=True)
    assert _records(data) == [["m:0", "m:1"], ["m:2"]]


def test_multi_value_column_is_marked() -> None:
    frame = _frame(c=["x"], m=["a;b"])
    schema = Schema(
        columns=(ColumnSpec(name="c"), ColumnSpec(name="m", kind=ColumnKind.MULTI_VALUE))
    )
    assert encode(frame, schema).attributes.multi_value == (False, True)


# --- numeric ------------------------------------------------------------------------


def test_numeric_values_are_binned() -> None:
    frame = _frame(age=["0", "17", "18", "29.5", "30", "100", "", None])
    spec = ColumnSpec(name="age", kind=ColumnKind.NUMERIC, bins=(0, 18, 30, 100))
    data = encode(frame, Schema(columns=(spec,)))
    assert data.attributes.attribute_value == ("0--18", "18--30", "30--100")  # 29.5: real values
    assert _records(data) == [
        ["age:0--18"],
        ["age:0--18"],
        ["age:18--30"],
        ["age:18--30"],
        ["age:30--100"],
        ["age:30--100"],
        [],
        [],
    ]


def test_numeric_whole_numbers_get_whole_labels() -> None:
    frame = _frame(age=["5", "20", "99"])
    spec = ColumnSpec(name="age", kind=ColumnKind.NUMERIC, bins=(0, 18, 30, 100))
    data = encode(frame, Schema(columns=(spec,)))
    assert data.attributes.attribute_value == ("0--17", "18--29", "30--100")
    assert _records(data) == [["age:0--17"], ["age:18--29"], ["age:30--100"]]


def test_numeric_quantile_bins_hold_every_value() -> None:
    frame = _frame(x=[str(i % 20 + 1) for i in range(40)])  # 1..20, each twice
    spec = ColumnSpec(name="x", kind=ColumnKind.NUMERIC, quantiles=4)
    data = encode(frame, Schema(columns=(spec,)))
    assert data.attributes.n_attributes == 4
    assert (data.record_lengths() == 1).all()


def test_open_ended_bins_take_every_value_and_name_no_extreme() -> None:
    spec = ColumnSpec(
        name="age", kind=ColumnKind.NUMERIC, bins=(20, 40), open_ended=True, edges="public"
    )
    data = encode(_frame(age=["3", "20", "39", "40", "117", None]), Schema(columns=(spec,)))
    assert data.attributes.attribute_value == ("< 20", "20--39", "≥ 40")
    assert data.record_lengths().tolist() == [1, 1, 1, 1, 1, 0]
    assert [int(data.record(i)[0]) for i in range(5)] == [0, 1, 1, 2, 2]


def test_numeric_identifier_is_refused_like_a_text_identifier() -> None:
    phones = [str(4_412_345_678_901 + 7919 * i) for i in range(30)]
    spec = ColumnSpec(name="phone", kind=ColumnKind.NUMERIC, bins=(0, 10**13))
    with pytest.raises(SchemaError, match="'phone' looks like an identifier"):
        encode(_frame(phone=phones), Schema(columns=(spec,)))
    allowed = ColumnSpec(
        name="phone", kind=ColumnKind.NUMERIC, bins=(0, 10**13), allow_identifier=True
    )
    assert encode(_frame(phone=phones), Schema(columns=(allowed,))).n_records == 30
    # measurements with decimals are not identifiers, however distinct
    weights = [f"{50 + 0.37 * i:.2f}" for i in range(30)]
    spec = ColumnSpec(name="w", kind=ColumnKind.NUMERIC, bins=(0, 100))
    assert encode(_frame(w=weights), Schema(columns=(spec,))).n_records == 30


def test_numeric_value_outside_the_bins() -> None:
    spec = ColumnSpec(name="age", kind=ColumnKind.NUMERIC, bins=(0, 100))
    with pytest.raises(SchemaError, match="'age' has the value 120 outside its bin edges"):
        encode(_frame(age=["5", "120"]), Schema(columns=(spec,)))


def test_numeric_column_with_text() -> None:
    spec = ColumnSpec(name="age", kind=ColumnKind.NUMERIC, bins=(0, 100))
    with pytest.raises(SchemaError, match="'age' is numeric but holds the value 'unknown'"):
        encode(_frame(age=["5", "unknown"]), Schema(columns=(spec,)))


# --- order --------------------------------------------------------------------------


def test_attributes_follow_schema_order_then_natural_value_order() -> None:
    frame = _frame(
        ageBroad=["18--20", "9--17", "48+", "0--8", "21--23"],
        gender=["M", "F", "M", "F", ""],
    )
    schema = Schema.all_categorical(["gender", "ageBroad"])
    data = encode(frame, schema)
    assert data.attributes.columns == ("gender", "ageBroad")
    assert data.attributes.attribute_value == ("F", "M", "0--8", "9--17", "18--20", "21--23", "48+")
    assert data.attributes.attribute_column.tolist() == [0, 0, 1, 1, 1, 1, 1]
    for i in range(data.n_records):
        record = data.record(i).tolist()
        assert record == sorted(record)
    assert _labels(data, 0) == ["gender:M", "ageBroad:18--20"]


def test_columns_outside_the_schema_are_ignored() -> None:
    frame = _frame(a=["x"], secret=["s"], b=["y"])
    data = encode(frame, Schema.all_categorical(["b", "a"]))
    assert _records(data) == [["b:y", "a:x"]]


def test_missing_schema_column() -> None:
    frame = _frame(a=["x"], b=["y"])
    with pytest.raises(SchemaError, match=r"no column 'gender' named in the schema .*found: a, b"):
        encode(frame, Schema.all_categorical(["a", "gender"]))


# --- identifiers --------------------------------------------------------------------


def _ids(n: int) -> pl.DataFrame:
    return _frame(caseId=[f"c{i}" for i in range(n)], g=["F", "M"] * (n // 2))


def test_identifier_column_is_refused() -> None:
    with pytest.raises(SchemaError, match=r"'caseId' looks like an identifier \(100 distinct"):
        encode(_ids(100), Schema.all_categorical(["caseId", "g"]))


def test_identifier_allowed_for_one_column() -> None:
    schema = Schema(
        columns=(ColumnSpec(name="caseId", allow_identifier=True), ColumnSpec(name="g"))
    )
    data = encode(_ids(100), schema)
    assert data.attributes.n_attributes == 102


def test_identifiers_allowed_for_all_columns() -> None:
    data = encode(_ids(100), Schema.all_categorical(["caseId", "g"]), allow_identifiers=True)
    assert data.attributes.n_attributes == 102


def test_few_values_are_never_an_identifier() -> None:
    data = encode(_ids(10), Schema.all_categorical(["caseId", "g"]))
    assert data.attributes.n_attributes == 12


# --- subjects -----------------------------------------------------------------------


def test_rows_of_one_subject_merge_into_one_record() -> None:
    frame = _frame(
        sid=["s2", "s1", "s2", "s3"],
        g=["F", "M", "F", ""],
        role=["victim", "victim", "witness", "victim"],
    )
    schema = Schema(columns=(ColumnSpec(name="g"), ColumnSpec(name="role")), subject_id="sid")
    data = encode(frame, schema)
    assert data.n_records == 3
    assert data.source_rows == 4
    assert data.privacy_unit == "subject"
    records = sorted(_records(data))
    assert records == sorted(
        [["g:F", "role:victim", "role:witness"], ["g:M", "role:victim"], ["role:victim"]]
    )
    for i in range(data.n_records):
        record = data.record(i).tolist()
        assert record == sorted(set(record))


def test_without_subject_id_each_row_is_a_record() -> None:
    data = encode(_frame(g=["F", "F"]), Schema.all_categorical(["g"]))
    assert data.n_records == 2
    assert data.privacy_unit == "record"


@pytest.mark.parametrize("missing", [None, "", "N"])
def test_missing_subject_id(missing: str | None) -> None:
    frame = _frame(sid=["s1", missing, "s2", missing], g=["F", "M", "F", "M"])
    schema = Schema(columns=(ColumnSpec(name="g"),), subject_id="sid", null_values=("N",))
    with pytest.raises(InputError, match="2 rows have no value in the subject-id column 'sid'"):
        encode(frame, schema)


def test_subject_id_column_must_exist() -> None:
    schema = Schema(columns=(ColumnSpec(name="g"),), subject_id="sid")
    with pytest.raises(SchemaError, match="no column 'sid'"):
        encode(_frame(g=["F"]), schema)


# --- prepare ------------------------------------------------------------------------


def test_prepare_reads_a_file_with_a_schema_file(tmp_path: Path) -> None:
    data_path = tmp_path / "d.csv"
    data_path.write_text("g,kids,x\nF,0,N\nM,2,y\n", encoding="utf-8")
    schema_path = tmp_path / "s.toml"
    save_schema(
        Schema(columns=(ColumnSpec(name="kids", sensitive_zero=True), ColumnSpec(name="x"))),
        schema_path,
    )
    data = prepare(data_path, schema_path, null_values=("N",))
    assert _records(data) == [["kids:0"], ["kids:2", "x:y"]]


def test_prepare_without_schema_makes_every_column_categorical(tmp_path: Path) -> None:
    data_path = tmp_path / "d.csv"
    data_path.write_text("g,flag\nF,0\nM,1\n", encoding="utf-8")
    data = prepare(data_path)
    assert _records(data) == [["g:F"], ["g:M", "flag:1"]]


# --- declared categories -------------------------------------------------------------


def test_declared_categories_are_attributes_even_when_unseen() -> None:
    frame = _frame(sex=["2", "2", "1"], own=["0", "1", "1"])
    schema = Schema(
        columns=(
            ColumnSpec(name="sex", categories=("1", "2", "9")),
            ColumnSpec(name="own", categories=("0", "1", "2")),  # 0 listed: a value
        )
    )
    data = encode(frame, schema)
    assert data.attributes.attribute_value == ("1", "2", "9", "0", "1", "2")  # declared order
    assert _records(data) == [["sex:2", "own:0"], ["sex:2", "own:1"], ["sex:1", "own:1"]]


def test_a_value_outside_the_declared_categories_is_refused() -> None:
    schema = Schema(columns=(ColumnSpec(name="sex", categories=("1", "2")),))
    with pytest.raises(SchemaError, match="'3', which is not among its declared categories"):
        encode(_frame(sex=["1", "3"]), schema)


def test_an_empty_cell_is_refused_where_the_schema_says_never_empty() -> None:
    declared = Schema(columns=(ColumnSpec(name="sex", categories=("1", "2")),))
    with pytest.raises(SchemaError, match=r"1 empty cells .* never empty"):
        encode(_frame(sex=["1", ""]), declared)
    allowed = Schema(columns=(ColumnSpec(name="sex", categories=("1", "2"), may_be_empty=True),))
    assert _records(encode(_frame(sex=["1", ""]), allowed)) == [["sex:1"], []]
    binned = Schema(
        columns=(ColumnSpec(name="age", kind=ColumnKind.NUMERIC, bins=(0, 9), may_be_empty=False),)
    )
    with pytest.raises(SchemaError, match="never empty"):
        encode(_frame(age=["3", None]), binned)
