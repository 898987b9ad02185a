"""Reporting resolution k on hand-picked counts."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.aggregate.resolution import apply_resolution, check_resolution, round_down
from dpshowcase.data.encode import encode
from dpshowcase.errors import ParameterError
from dpshowcase.schema.model import Schema


def test_round_down_to_multiples() -> None:
    counts = np.array([0, 1, 4, 5, 6, 9, 10, 11, 123])
    assert round_down(counts, 5).tolist() == [0, 0, 0, 5, 5, 5, 10, 10, 120]


def test_resolution_one_changes_nothing() -> None:
    counts = np.array([1, 2, 7])
    assert round_down(counts, 1).tolist() == [1, 2, 7]


@pytest.mark.parametrize("k", [0, -3, 2.5, "5"])
def test_bad_resolution(k: object) -> None:
    with pytest.raises(ParameterError, match=f"resolution k must be a whole number .*not {k!r}"):
        check_resolution(k)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="resolution k"):
        round_down(np.array([1]), k)  # type: ignore[arg-type]


def test_apply_resolution_drops_small_counts_and_rounds_the_rest() -> None:
    frame = pl.DataFrame({"g": ["F"] * 7 + ["M"] * 3 + ["X"] * 12})
    counts = count_combinations(encode(frame, Schema.all_categorical(["g"])), 1)
    released = apply_resolution(counts, 5)
    by_label = dict(
        zip(released.to_frame()["combination"], released.to_frame()["count"], strict=True)
    )
    assert by_label == {"g:F": 5, "g:X": 10}
    assert released.attributes is counts.attributes


def test_apply_resolution_refuses_k_below_one() -> None:
    frame = pl.DataFrame({"g": ["F"]})
    counts = count_combinations(encode(frame, Schema.all_categorical(["g"])), 1)
    with pytest.raises(ParameterError, match="at least 1, not 0"):
        apply_resolution(counts, 0)
