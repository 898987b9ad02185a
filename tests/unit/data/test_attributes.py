"""The attribute index, labels and their escaping."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from dpshowcase.data.attributes import AttributeIndex, escape, natural_key, split_combination
from dpshowcase.data.encode import encode
from dpshowcase.errors import InputError, ParameterError
from dpshowcase.schema.model import Schema


def _index() -> AttributeIndex:
    return AttributeIndex(
        columns=("gender", "IP_Gender", "a:b"),
        multi_value=(False, True, False),
        attribute_column=np.array([0, 0, 1, 1, 2]),
        attribute_value=("F", "M", "Female", "Female;Male", "x\\y"),
    )


def test_labels_are_escaped() -> None:
    assert _index().labels == (
        "gender:F",
        "gender:M",
        "IP_Gender:Female",
        "IP_Gender:Female\\;Male",
        "a\\:b:x\\\\y",
    )


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain", "plain"),
        ("a;b", "a\\;b"),
        ("a:b", "a\\:b"),
        ("a\\b", "a\\\\b"),
        (";:\\", "\\;\\:\\\\"),
    ],
)
def test_escape(text: str, escaped: str) -> None:
    assert escape(text) == escaped


def test_natural_order() -> None:
    values = ["48+", "18--20", "9--17", "10", "2", "b", "a", "0--8"]
    assert sorted(values, key=natural_key) == [
        "0--8",
        "2",
        "9--17",
        "10",
        "18--20",
        "48+",
        "a",
        "b",
    ]


def test_combination_label_sorts_attributes_and_parses_back() -> None:
    index = _index()
    label = index.combination_label([4, 3, 0])
    assert label == "gender:F;IP_Gender:Female\\;Male;a\\:b:x\\\\y"
    assert split_combination(label) == [
        ("gender", "F"),
        ("IP_Gender", "Female;Male"),
        ("a:b", "x\\y"),
    ]


def test_split_combination_refuses_malformed_text() -> None:
    with pytest.raises(InputError, match="'novalue' is not of the form column:value"):
        split_combination("a:b;novalue")
    with pytest.raises(InputError, match="is not of the form column:value"):
        split_combination("a:b:c")


def test_lookups() -> None:
    index = _index()
    assert index.n_attributes == 5
    assert index.column_offsets.tolist() == [0, 2, 4, 5]
    assert list(index.attributes_of("IP_Gender")) == [2, 3]
    assert index.find("IP_Gender", "Female;Male") == 3
    assert index.find("IP_Gender", "Male") is None
    assert index.find("nope", "F") is None


def test_subset_renumbers() -> None:
    index = _index()
    sub, new_ids = index.subset(np.array([True, False, False, True, True]))
    assert sub.attribute_value == ("F", "Female;Male", "x\\y")
    assert sub.attribute_column.tolist() == [0, 1, 2]
    assert new_ids.tolist() == [0, -1, -1, 1, 2]
    assert sub.labels[1] == "IP_Gender:Female\\;Male"


def test_index_refuses_inconsistent_arrays() -> None:
    with pytest.raises(ParameterError, match="differ in length"):
        AttributeIndex(
            columns=("a",),
            multi_value=(False,),
            attribute_column=np.array([0, 0]),
            attribute_value=("x",),
        )
    with pytest.raises(ParameterError, match="column by column"):
        AttributeIndex(
            columns=("a", "b"),
            multi_value=(False, False),
            attribute_column=np.array([1, 0]),
            attribute_value=("x", "y"),
        )


def test_categorical_value_with_delimiters_keeps_its_meaning() -> None:
    frame = pl.DataFrame({"IP_Gender": ["Female;Male", "Female"], "note": ["a:b\\c", None]})
    data = encode(frame, Schema.all_categorical(["IP_Gender", "note"]))
    labels = data.attributes.labels
    assert "IP_Gender:Female\\;Male" in labels
    both = data.attributes.combination_label(data.record(0).tolist())
    assert split_combination(both) == [("IP_Gender", "Female;Male"), ("note", "a:b\\c")]
