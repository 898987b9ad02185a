"""Linkability: records singled out by combinations rarer than the resolution."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from dpshowcase.aggregate.linkability import linkability
from dpshowcase.data.demo import generate_demo_records
from dpshowcase.data.prepare import prepare
from dpshowcase.errors import ParameterError

FRAME = pl.DataFrame({"a": ["x", "x", "x", "y"], "b": ["p", "p", "q", "q"]})


def test_hand_computed_example():
    # singles: a:x 3, a:y 1 (rare), b:p 2, b:q 2; pairs: x&p 2, x&q 1 (rare), y&q 1
    result = linkability(prepare(FRAME), reporting_length=2, resolution=2)
    assert result.records == 4
    assert result.linkable == 2  # x&q, and y alone
    assert result.share == 0.5
    # y&q is rare only because y is: q is not blamed for record 3
    assert dict(result.attribute_records) == {"a:x": 1, "b:q": 1, "a:y": 1}
    assert result.column_records == {"a": 2, "b": 1}


def test_nothing_is_rare_at_resolution_one():
    result = linkability(prepare(FRAME), reporting_length=2, resolution=1)
    assert result.linkable == 0
    assert result.attribute_records == []
    assert set(result.column_records.values()) == {0}


def test_longer_combinations_only_add_risk():
    data = prepare(
        generate_demo_records(rows=400, seed=2).select(
            "gender", "ageBroad", "citizenship", "traffickMonths", "isForcedLabour"
        )
    )
    shares = [linkability(data, r, 5).linkable for r in (1, 2, 3)]
    assert shares == sorted(shares)
    assert shares[-1] > 0


def test_agrees_with_brute_force():
    frame = generate_demo_records(rows=300, seed=4).select(
        "gender", "ageBroad", "majorityStatus", "citizenship", "isSexualExploit"
    )
    data = prepare(frame)
    k, r = 4, 3
    records = [tuple(data.record(i).tolist()) for i in range(data.n_records)]
    counts: dict[tuple[int, ...], int] = {}
    for rec in records:
        for n in range(1, r + 1):
            for combo in itertools.combinations(rec, n):
                counts[combo] = counts.get(combo, 0) + 1
    expected = sum(
        any(counts[c] < k for n in range(1, r + 1) for c in itertools.combinations(rec, n))
        for rec in records
    )
    assert linkability(data, r, k).linkable == expected


def test_bad_resolution():
    with pytest.raises(ParameterError, match="resolution"):
        linkability(prepare(FRAME), 2, 0)


def test_per_attribute_counts_are_bounded_by_linkable_records():
    data = prepare(generate_demo_records(rows=500, seed=1))
    result = linkability(data, 2, 10)
    assert all(n <= result.linkable for _, n in result.attribute_records)
    assert max(result.column_records.values()) <= result.linkable
    assert np.isclose(result.share, result.linkable / 500)


def test_threads_agree_with_one_thread(monkeypatch):
    from dpshowcase.aggregate import linkability as module

    data = prepare(generate_demo_records(rows=700, seed=6))
    one = linkability(data, 3, 10)
    monkeypatch.setattr(module, "RECORDS_PER_THREAD", 100)
    monkeypatch.setattr(module, "_threads", lambda: 4)
    many = linkability(data, 3, 10)
    assert many == one
