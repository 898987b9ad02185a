"""Schema TOML files: round trip, and refusal of malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dpshowcase.errors import SchemaError
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema
from dpshowcase.schema.toml_io import (
    dump_schema,
    load_schema,
    save_schema,
    schema_from_dict,
    schema_to_dict,
)

FULL_SCHEMA = Schema(
    columns=(
        ColumnSpec(name="ageBroad"),
        ColumnSpec(name="AGEP", kind=ColumnKind.NUMERIC, bins=(0, 18, 30, 65, 100)),
        ColumnSpec(name="income", kind=ColumnKind.NUMERIC, bins=(0.5, 1.25, 7.75)),
        ColumnSpec(name="hours", kind=ColumnKind.NUMERIC, quantiles=4),
        ColumnSpec(name="IP_Gender", kind=ColumnKind.MULTI_VALUE, delimiter="|"),
        ColumnSpec(name="isAbduction", sensitive_zero=True),
        ColumnSpec(name="postcode", allow_identifier=True),
        ColumnSpec(name="colonne é:;", kind=ColumnKind.MULTI_VALUE),
        ColumnSpec(name="SEX", categories=("1", "2")),
        ColumnSpec(name="EDU", categories=("1", "N"), may_be_empty=True),
        ColumnSpec(name="AGEP1", kind=ColumnKind.NUMERIC, bins=(0, 50, 120), may_be_empty=False),
    ),
    subject_id="caseId",
    null_values=("", "N", "NA"),
)


def test_save_then_load_gives_an_equal_schema(tmp_path: Path) -> None:
    path = tmp_path / "schema.toml"
    save_schema(FULL_SCHEMA, path)
    assert load_schema(path) == FULL_SCHEMA
    assert [p.name for p in tmp_path.iterdir()] == ["schema.toml"]  # no temp file left


def test_round_trip_of_a_minimal_schema(tmp_path: Path) -> None:
    schema = Schema.all_categorical(["a"])
    path = tmp_path / "s.toml"
    save_schema(schema, path)
    assert load_schema(path) == schema
    assert "subject_id" not in path.read_text(encoding="utf-8")


def test_dict_round_trip() -> None:
    assert schema_from_dict(schema_to_dict(FULL_SCHEMA)) == FULL_SCHEMA


def test_the_documented_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        """
null_values = ["", "N"]
subject_id = "caseId"

[[columns]]
name = "ageBroad"

[[columns]]
name = "AGEP"
kind = "numeric"
bins = [0, 18, 30, 65, 100]

[[columns]]
name = "IP_Gender"
kind = "multi_value"
delimiter = ";"

[[columns]]
name = "isAbduction"
sensitive_zero = true
""",
        encoding="utf-8",
    )
    schema = load_schema(path)
    assert schema.column_names == ("ageBroad", "AGEP", "IP_Gender", "isAbduction")
    assert schema.column("AGEP").bins == (0.0, 18.0, 30.0, 65.0, 100.0)
    assert schema.column("IP_Gender").kind is ColumnKind.MULTI_VALUE
    assert schema.column("isAbduction").sensitive_zero
    assert schema.subject_id == "caseId"
    assert schema.null_values == ("", "N")


def test_dump_is_valid_toml_naming_every_column() -> None:
    text = dump_schema(FULL_SCHEMA)
    for spec in FULL_SCHEMA.columns:
        assert spec.name in text


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schema.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            'colums = []\n[[columns]]\nname = "a"\n', r"unknown keys \['colums'\]", id="top-key"
        ),
        pytest.param(
            '[[columns]]\nname = "a"\nbinz = [1, 2]\n',
            r"Column 'a' .* unknown keys \['binz'\]",
            id="column-key",
        ),
        pytest.param('subject_id = "x"\n', r"needs a list of \[\[columns\]\]", id="no-columns"),
        pytest.param("columns = []\n", r"needs a list of \[\[columns\]\]", id="empty-columns"),
        pytest.param('[[columns]]\nkind = "numeric"\n', "Column 1 .* has no name", id="no-name"),
        pytest.param(
            '[[columns]]\nname = "a"\nkind = "numeric"\nquantiles = "many"\n',
            "Column 'a' .* has a bad value",
            id="quantiles-text",
        ),
        pytest.param(
            '[[columns]]\nname = "a"\nkind = "numeric"\nbins = ["low", "high"]\n',
            "Column 'a' .* has a bad value",
            id="bins-text",
        ),
        pytest.param(
            '[[columns]]\nname = "a"\nkind = "ordinal"\n', "unknown kind 'ordinal'", id="kind"
        ),
        pytest.param(
            '[[columns]]\nname = "a"\nkind = "numeric"\nbins = [3, 1]\n',
            "must increase strictly",
            id="edges",
        ),
        pytest.param(
            '[[columns]]\nname = "a"\nsensitive_zero = "false"\n',
            "sensitive_zero = 'false'; write true or false",
            id="bool-as-text",
        ),
        pytest.param(
            '[[columns]]\nname = "a"\nallow_identifier = 1\n',
            "allow_identifier = 1; write true or false",
            id="bool-as-int",
        ),
        pytest.param(
            'null_values = "N"\n[[columns]]\nname = "a"\n',
            "null_values .* must be a list of strings",
            id="nulls-not-list",
        ),
        pytest.param(
            'null_values = ["", 0]\n[[columns]]\nname = "a"\n',
            "null_values .* must be a list of strings",
            id="nulls-not-strings",
        ),
        pytest.param(
            'subject_id = 3\n[[columns]]\nname = "a"\n',
            "subject_id .* must be a column name",
            id="subject-not-text",
        ),
        pytest.param(
            'subject_id = "a"\n[[columns]]\nname = "a"\n',
            "is the subject id and cannot also be an attribute",
            id="subject-is-column",
        ),
        pytest.param(
            '[[columns]]\nname = "a"\n[[columns]]\nname = "a"\n', "twice: a", id="duplicate"
        ),
    ],
)
def test_load_refuses(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        load_schema(_write(tmp_path, text))


def test_invalid_toml(tmp_path: Path) -> None:
    path = _write(tmp_path, "[[columns]\nname = a\n")
    with pytest.raises(SchemaError, match=r"schema\.toml is not valid TOML"):
        load_schema(path)


def test_non_utf8_schema_file(tmp_path: Path) -> None:
    path = tmp_path / "schema.toml"
    path.write_bytes('[[columns]]\nname = "Género"\n'.encode("latin-1"))
    with pytest.raises(SchemaError, match="is not UTF-8 text"):
        load_schema(path)


def test_missing_schema_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="does not exist"):
        load_schema(tmp_path / "nope.toml")


def test_save_into_a_missing_folder_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        save_schema(FULL_SCHEMA, tmp_path / "missing" / "schema.toml")
    assert list(tmp_path.iterdir()) == []


def test_structural_zeros_round_trip_and_are_checked(tmp_path: Path) -> None:
    zeros = ("ageBroad:0--8;isAbduction:1", "ageBroad:0--8;IP_Gender:Male;isAbduction:1")
    schema = Schema(columns=FULL_SCHEMA.columns, structural_zeros=zeros)
    path = tmp_path / "schema.toml"
    save_schema(schema, path)
    assert load_schema(path).structural_zeros == zeros
    assert schema.structural_zero_attributes()[0] == (("ageBroad", "0--8"), ("isAbduction", "1"))
    assert schema.as_released().structural_zeros == zeros
    for bad, message in (
        (["ageBroad:0--8"], "two or more attributes"),
        (["ageBroad:0--8;ageBroad:9--17"], "two or more attributes of different columns"),
        (["ageBroad:0--8;nowhere:1"], "not a column of the schema"),
        ("ageBroad:0--8;isAbduction:1", "must be a list of strings"),
    ):
        data = {**schema_to_dict(FULL_SCHEMA), "structural_zeros": bad}
        with pytest.raises(SchemaError, match=message):
            schema_from_dict(data)


def test_categories_written_as_numbers_are_read_as_text() -> None:
    # TOML lets a person write categories = [1, 2]; the data's cells are text
    schema = schema_from_dict({"columns": [{"name": "SEX", "categories": [1, 2]}]})
    assert schema.columns[0].categories == ("1", "2")
    assert not schema.columns[0].can_be_empty  # declared categories: never empty by default
    with pytest.raises(SchemaError, match="must be a list of values"):
        schema_from_dict({"columns": [{"name": "SEX", "categories": "1,2"}]})
    with pytest.raises(SchemaError, match="may_be_empty"):
        schema_from_dict({"columns": [{"name": "SEX", "may_be_empty": "no"}]})
