"""Preservation, fabrication, suppression and leakage on tiny count tables."""

from __future__ import annotations

import polars as pl
import pytest

from dpshowcase.evaluate.preservation import bucket_bounds, compare_counts


def _table(rows):
    return pl.DataFrame(
        rows, schema={"combination": pl.String, "length": pl.Int64, "count": pl.Int64}, orient="row"
    )


REFERENCE = _table(
    [
        ("a:1", 1, 40),
        ("b:1", 1, 10),
        ("a:1;b:1", 2, 8),
        ("a:1;c:1", 2, 4),
    ]
)
OUTPUT = _table(
    [
        ("a:1", 1, 50),  # overshoots: preservation capped at 1, error 10/40
        ("b:1", 1, 5),  # half: preservation .5, error .5
        ("a:1;b:1", 2, 8),  # exact
        ("b:1;c:1", 2, 3),  # fabricated (not in the reference)
        # a:1;c:1 (count 4) is suppressed
    ]
)


def test_by_length_by_hand():
    result = compare_counts(REFERENCE, OUTPUT, resolution=5)
    one, two = result.by_length
    # length 1: preservation mean(1, .5) = .75; count ratio (50 + 5) / (40 + 10) = 1.1
    # mean proportional error mean(10/40, 5/10) = .375; mean counts 25 and 27.5
    assert (one.reference_combinations, one.output_combinations, one.common) == (2, 2, 2)
    assert one.preservation == pytest.approx(0.75)
    assert one.count_ratio == pytest.approx(1.1)
    assert one.mean_proportional_error == pytest.approx(0.375)
    assert one.reference_mean_count == pytest.approx(25.0)
    assert one.output_mean_count == pytest.approx(27.5)
    assert (one.fabricated, one.suppressed) == (0, 0)
    # length 2: a:1;b:1 kept (1), a:1;c:1 suppressed (0) -> preservation .5
    # fabricated b:1;c:1 (count 3), suppressed a:1;c:1 (count 4)
    # rare: reference counts below 5 present in the output: a:1;c:1 (4) is absent -> 0
    assert two.preservation == pytest.approx(0.5)
    assert (two.fabricated, two.suppressed, two.common) == (1, 1, 1)
    assert (two.fabricated_count, two.suppressed_count) == (3, 4)
    assert two.rare_in_output == 0
    assert two.count_ratio == pytest.approx(8 / 12)
    assert two.mean_proportional_error == pytest.approx((0 + 1) / 2)
    assert result.fabricated == 1
    assert result.suppressed == 1
    # overall preservation: mean(1, .5, 1, 0) = .625
    assert result.preservation == pytest.approx(0.625)


def test_rare_combinations_in_the_output_are_counted():
    # with resolution 9, b:1 (10) is not rare but a:1;b:1 (8) is, and it is in the output
    result = compare_counts(REFERENCE, OUTPUT, resolution=9)
    assert [x.rare_in_output for x in result.by_length] == [0, 1]
    assert result.rare_in_output == 1


def test_buckets_by_reference_count():
    # reference counts 40, 10, 8, 4 -> buckets (20, 40], (0, 10], (0, 10], (0, 10]
    result = compare_counts(REFERENCE, OUTPUT, resolution=5)
    assert [(b.lower, b.upper, b.combinations) for b in result.by_bucket] == [
        (0, 10, 3),
        (20, 40, 1),
    ]
    first, last = result.by_bucket
    # (0, 10]: b:1 .5, a:1;b:1 1, a:1;c:1 0 -> .5 ; mean length (1 + 2 + 2) / 3
    assert first.preservation == pytest.approx(0.5)
    assert first.mean_length == pytest.approx(5 / 3)
    assert last.preservation == pytest.approx(1.0)
    # combination loss = mean(1 - .5, 1 - 1) = .25
    assert result.combination_loss == pytest.approx(0.25)


def test_bucket_bounds_double():
    assert bucket_bounds(0).tolist() == [10]
    assert bucket_bounds(10).tolist() == [10]
    assert bucket_bounds(11).tolist() == [10, 20]
    assert bucket_bounds(80).tolist() == [10, 20, 40, 80]


def test_longer_output_combinations_are_ignored_and_empty_lengths_are_zero():
    output = pl.concat([OUTPUT, _table([("a:1;b:1;c:1", 3, 2)])])
    result = compare_counts(REFERENCE, output, resolution=5, max_length=3)
    assert result.by_length[2].output_combinations == 1
    assert result.by_length[2].reference_combinations == 0
    assert result.by_length[2].preservation == 0.0
    short = compare_counts(REFERENCE, output, resolution=5)
    assert len(short.by_length) == 2
    assert short.fabricated == 1


def test_identical_tables_preserve_everything():
    result = compare_counts(REFERENCE, REFERENCE, resolution=5)
    assert result.preservation == 1.0
    assert result.combination_loss == 0.0
    assert result.fabricated == result.suppressed == 0
    assert result.to_dict()["by_length"][0]["count_ratio"] == 1.0
