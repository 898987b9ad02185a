"""Validators of ColumnSpec and Schema: every path that refuses a malformed schema."""

from __future__ import annotations

import pytest

from dpshowcase.errors import SchemaError
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema


def test_defaults_make_a_categorical_column() -> None:
    spec = ColumnSpec(name="gender")
    assert spec.kind is ColumnKind.CATEGORICAL
    assert not spec.sensitive_zero
    assert spec.bins is None
    assert spec.quantiles is None


@pytest.mark.parametrize("kind", ["numeric", "multi_value", "categorical"])
def test_kind_given_as_text_becomes_the_enum(kind: str) -> None:
    extra = {"quantiles": 4} if kind == "numeric" else {}
    spec = ColumnSpec(name="c", kind=kind, **extra)  # type: ignore[arg-type]
    assert spec.kind is ColumnKind(kind)


def test_numeric_bins_are_stored_as_floats() -> None:
    spec = ColumnSpec(name="age", kind=ColumnKind.NUMERIC, bins=(0, 18, 30))
    assert spec.bins == (0.0, 18.0, 30.0)
    assert all(isinstance(e, float) for e in spec.bins)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"kind": "ordinal"}, r"unknown kind 'ordinal'.*categorical", id="unknown-kind"
        ),
        pytest.param({"kind": "numeric"}, r"needs either bins .* or quantiles", id="numeric-bare"),
        pytest.param(
            {"kind": "numeric", "bins": (0, 1), "quantiles": 3},
            "both bins and quantiles",
            id="numeric-both",
        ),
        pytest.param(
            {"kind": "numeric", "bins": (0, 18, 18, 30)}, "must increase strictly", id="edges-equal"
        ),
        pytest.param(
            {"kind": "numeric", "bins": (0, 30, 18)},
            "must increase strictly",
            id="edges-descending",
        ),
        pytest.param({"kind": "numeric", "bins": (5,)}, "at least two finite", id="one-edge"),
        pytest.param(
            {"kind": "numeric", "bins": (0, float("inf"))}, "at least two finite", id="inf-edge"
        ),
        pytest.param(
            {"kind": "numeric", "bins": (0, float("nan"), 3)},
            "at least two finite",
            id="nan-edge",
        ),
        pytest.param({"kind": "numeric", "quantiles": 1}, "1 quantile bins; use 2 to 100", id="q1"),
        pytest.param(
            {"kind": "numeric", "quantiles": 101}, "101 quantile bins; use 2 to 100", id="q101"
        ),
        pytest.param(
            {"bins": (0, 1)}, "is categorical but has bins or quantiles", id="bins-on-categorical"
        ),
        pytest.param(
            {"quantiles": 4}, "is categorical but has bins or quantiles", id="quantiles-categorical"
        ),
        pytest.param(
            {"kind": "multi_value", "bins": (0, 1)},
            "is multi_value but has bins or quantiles",
            id="bins-on-multi-value",
        ),
        pytest.param(
            {"kind": "multi_value", "delimiter": ""},
            "needs a non-empty delimiter",
            id="no-delimiter",
        ),
    ],
)
def test_column_spec_refuses(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        ColumnSpec(name="col", **kwargs)  # type: ignore[arg-type]


def test_column_spec_refuses_an_empty_name() -> None:
    with pytest.raises(SchemaError, match="empty name"):
        ColumnSpec(name="")


@pytest.mark.parametrize("quantiles", [2, 100])
def test_quantile_bounds_are_inclusive(quantiles: int) -> None:
    assert ColumnSpec(name="x", kind="numeric", quantiles=quantiles).quantiles == quantiles  # type: ignore[arg-type]


def test_schema_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        ColumnSpec(name="x", kind="nope")  # type: ignore[arg-type]


def test_schema_refuses_duplicate_columns() -> None:
    with pytest.raises(SchemaError, match="names these columns twice: a, b"):
        Schema(
            columns=(
                ColumnSpec(name="a"),
                ColumnSpec(name="b"),
                ColumnSpec(name="a"),
                ColumnSpec(name="b"),
                ColumnSpec(name="c"),
            )
        )


def test_schema_refuses_subject_id_that_is_also_an_attribute() -> None:
    with pytest.raises(SchemaError, match="'caseId' is the subject id and cannot also be"):
        Schema(columns=(ColumnSpec(name="caseId"), ColumnSpec(name="g")), subject_id="caseId")


def test_schema_refuses_no_columns() -> None:
    with pytest.raises(SchemaError, match="names no columns"):
        Schema(columns=())


def test_schema_always_treats_the_empty_cell_as_null_and_dedupes_tokens() -> None:
    schema = Schema(columns=(ColumnSpec(name="a"),), null_values=("N", "NA", "N"))
    assert schema.null_values == ("", "N", "NA")


def test_schema_accessors() -> None:
    schema = Schema(
        columns=(ColumnSpec(name="a"), ColumnSpec(name="b", kind="multi_value")),  # type: ignore[arg-type]
        subject_id="sid",
    )
    assert schema.column_names == ("a", "b")
    assert schema.source_columns == ("a", "b", "sid")
    assert schema.column("b").kind is ColumnKind.MULTI_VALUE
    with pytest.raises(SchemaError, match="no column 'zzz'"):
        schema.column("zzz")


def test_all_categorical() -> None:
    schema = Schema.all_categorical(["x", "y"])
    assert schema.column_names == ("x", "y")
    assert all(c.kind is ColumnKind.CATEGORICAL and not c.sensitive_zero for c in schema.columns)
    assert schema.subject_id is None


def test_released_schema_reads_bin_labels_as_values():
    from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema

    schema = Schema(
        columns=(
            ColumnSpec(name="age", kind=ColumnKind.NUMERIC, bins=(0, 1, 18, 99)),
            ColumnSpec(name="gender"),
        ),
        subject_id="case",
        null_values=("N",),
    )
    released = schema.as_released()
    assert released.column("age").kind is ColumnKind.CATEGORICAL
    assert released.column("age").sensitive_zero, "a bin labelled 0 is a value"
    assert released.column("gender") == schema.column("gender")
    assert released.subject_id is None, "synthetic rows are not subjects"
    assert "N" in released.null_values


def test_declared_categories_make_a_public_never_empty_domain() -> None:
    spec = ColumnSpec(name="SEX", categories=[" 1", "2"])  # type: ignore[arg-type]
    assert spec.categories == ("1", "2")  # stripped, as cells are
    assert spec.public_domain
    assert not spec.can_be_empty
    assert ColumnSpec(name="SEX", categories=("1",), may_be_empty=True).can_be_empty
    # without categories nothing changes: a learnt domain, empty cells allowed
    plain = ColumnSpec(name="g")
    assert not plain.public_domain
    assert plain.can_be_empty
    # numeric bins are a public domain too; emptiness is declared
    age = ColumnSpec(name="AGEP", kind=ColumnKind.NUMERIC, bins=(0, 10), may_be_empty=False)
    assert age.public_domain
    assert not age.can_be_empty
    inferred = ColumnSpec(name="AGEP", kind=ColumnKind.NUMERIC, bins=(0, 10), edges="inferred")
    assert not inferred.public_domain


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"categories": ()}, "lists no categories"),
        ({"categories": ("1", "")}, "an empty one"),
        ({"categories": ("1", "1")}, "a category twice"),
        ({"categories": "12"}, "list of strings"),
        ({"categories": ("1",), "kind": "numeric", "bins": (0, 1)}, "only a categorical"),
        ({"may_be_empty": "yes"}, "write true or false"),
    ],
)
def test_categories_are_checked(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        ColumnSpec(name="c", **kwargs)  # type: ignore[arg-type]


def test_released_schema_allows_empty_cells() -> None:
    schema = Schema(columns=(ColumnSpec(name="SEX", categories=("1", "2")),))
    released = schema.as_released().columns[0]
    assert released.categories == ("1", "2")
    assert released.can_be_empty
