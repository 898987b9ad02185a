"""Bins: readable labels, assignment of values, and quantile edges."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dpshowcase.errors import InputError, SchemaError
from dpshowcase.schema.binning import assign_bins, bin_labels, is_whole, quantile_edges


@pytest.mark.parametrize(
    ("edges", "whole", "labels"),
    [
        pytest.param((0, 18, 30, 100), True, ("0--17", "18--29", "30--100"), id="ages"),
        pytest.param((39, 48), True, ("39--48",), id="single-closed-bin"),
        pytest.param((39, 48, 57), True, ("39--47", "48--57"), id="ctdc-band"),
        pytest.param((0, 1, 2), True, ("0", "1--2"), id="one-value-bin"),
        pytest.param((0.5, 1.25, 3), False, ("0.5--1.25", "1.25--3"), id="floats"),
        pytest.param((0, 18, 30), False, ("0--18", "18--30"), id="whole-edges-real-values"),
        pytest.param((0, 2.5, 5), True, ("0--2.5", "2.5--5"), id="whole-values-real-edges"),
    ],
)
def test_bin_labels(edges: tuple[float, ...], whole: bool, labels: tuple[str, ...]) -> None:
    assert bin_labels(tuple(float(e) for e in edges), whole_numbers=whole) == labels


def test_assign_bins_half_open_with_closed_top() -> None:
    edges = (0.0, 18.0, 30.0, 100.0)
    values = np.array([0, 17, 17.9, 18, 29, 30, 99.5, 100])
    assert assign_bins(values, edges, "age").tolist() == [0, 0, 0, 1, 1, 2, 2, 2]


def test_assign_bins_marks_missing_as_minus_one() -> None:
    values = np.array([np.nan, 5.0, np.nan])
    assert assign_bins(values, (0.0, 10.0), "age").tolist() == [-1, 0, -1]


@pytest.mark.parametrize(
    ("value", "shown"),
    [(-1.0, "-1"), (100.5, "100.5"), (1000.0, "1000")],
)
def test_assign_bins_refuses_values_outside_the_edges(value: float, shown: str) -> None:
    values = np.array([5.0, value])
    with pytest.raises(SchemaError, match=rf"'age' has the value {shown} outside .* 0\.\.100"):
        assign_bins(values, (0.0, 18.0, 100.0), "age")


def test_is_whole() -> None:
    assert is_whole(np.array([1.0, 2.0, np.nan]))
    assert not is_whole(np.array([1.0, 2.5]))
    assert is_whole(np.array([np.nan]))


def test_quantile_edges_split_into_about_equal_bins() -> None:
    values = np.arange(1, 101, dtype=np.float64)
    edges = quantile_edges(values, 4, "x")
    assert edges[0] == 1.0
    assert edges[-1] == 100.0
    assert len(edges) == 5
    assert all(b > a for a, b in itertools.pairwise(edges))
    sizes = np.bincount(assign_bins(values, edges, "x"))
    assert sizes.sum() == 100
    assert sizes.min() >= 23
    assert sizes.max() <= 27
    assert all(float(e).is_integer() for e in edges)  # whole-number data, whole edges


def test_quantile_edges_merge_duplicates() -> None:
    values = np.array([1.0] * 90 + [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0])
    edges = quantile_edges(values, 10, "x")
    assert len(set(edges)) == len(edges)
    assert edges[0] == 1.0
    assert edges[-1] == 11.0
    assert len(edges) < 11


def test_quantile_edges_of_a_constant_column_make_one_bin() -> None:
    edges = quantile_edges(np.array([7.0, 7.0, np.nan]), 5, "x")
    assert edges == (7.0, 8.0)
    assert assign_bins(np.array([7.0]), edges, "x").tolist() == [0]


def test_quantile_edges_keep_fractions_of_real_data() -> None:
    values = np.linspace(0.0, 1.0, 11)
    edges = quantile_edges(values, 2, "x")
    assert edges == pytest.approx((0.0, 0.5, 1.0))


def test_quantile_edges_need_numbers() -> None:
    with pytest.raises(InputError, match="'x' has no numbers to bin"):
        quantile_edges(np.array([np.nan, np.nan]), 3, "x")
