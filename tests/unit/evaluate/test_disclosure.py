"""Exact and unique matches, distance to the closest record."""

from __future__ import annotations

import numpy as np
import pytest

from dpshowcase.evaluate.disclosure import (
    _dominance,
    distance_to_closest,
    distinct_rows,
    match_risk,
    nearest_distances,
)


def _codes(rows):
    return np.array(rows, dtype=np.int32).T  # (columns, records)


SENSITIVE = _codes([(0, 0, 0), (0, 0, 0), (1, 2, 1), (1, 1, 1)])
# records: A=(0,0,0) twice (not unique), B=(1,2,1) unique, C=(1,1,1) unique
SYNTHETIC = _codes([(0, 0, 0), (1, 2, 1), (1, 2, 1), (2, 2, 2), (1, 1, 0)])


def test_matches_by_hand():
    r = match_risk(SENSITIVE, SYNTHETIC)
    # exact: (0,0,0), (1,2,1) twice -> 3 of 5; of those copying a unique record: 2
    assert (r.exact_matches, r.unique_matches) == (3, 2)
    assert r.exact_match_share == pytest.approx(0.6)
    assert r.unique_match_share == pytest.approx(0.4)
    # sensitive uniques B and C; B appears in the synthetic data -> 1 of 2
    assert (r.sensitive_uniques, r.sensitive_uniques_matched) == (2, 1)
    assert r.sensitive_uniques_matched_share == pytest.approx(0.5)


def test_distance_to_closest_by_hand():
    d = distance_to_closest(SENSITIVE, SYNTHETIC, sample=10)
    # synthetic -> closest sensitive: 0, 0, 0, (2,2,2)->(1,2,1) 2, (1,1,0)->(1,1,1) 1
    assert d.synthetic_histogram == [3, 1, 1, 0]
    # baseline: A has a twin -> 0, A -> 0, B -> C differs in 1, C -> B 1
    assert d.baseline_histogram == [2, 2, 0, 0]
    assert d.synthetic_median == 0.0
    assert d.baseline_median == 0.5
    assert d.synthetic_at_zero == pytest.approx(0.6)
    assert d.baseline_at_zero == pytest.approx(0.5)
    # P(syn < base) = .6*.5 + .2*0 = .3 (syn 0 vs base 1) ; P(syn > base) =
    # .2*(1) [syn 1 > base 0 (.5)] -> .2*.5 = .1, syn 2 > base 0 or 1 -> .2*1 = .2 ; .3-.3
    assert d.closer_than_baseline == pytest.approx(0.0)


def test_dominance_by_hand():
    assert _dominance(np.array([0]), np.array([1])) == pytest.approx(1.0)
    assert _dominance(np.array([2]), np.array([1])) == pytest.approx(-1.0)
    assert _dominance(np.array([1, 1]), np.array([1])) == pytest.approx(0.0)


def test_nearest_distances_finds_copies_without_search():
    refs, _, _ = distinct_rows(SENSITIVE)
    assert nearest_distances(refs, _codes([(0, 0, 0), (2, 2, 2)])).tolist() == [0, 2]
    assert nearest_distances(refs[:0], _codes([(0, 0, 0)])).tolist() == [3]


def test_distinct_rows_counts():
    rows, inverse, counts = distinct_rows(SENSITIVE)
    assert rows.shape == (3, 3)
    assert sorted(counts.tolist()) == [1, 1, 2]
    assert inverse[0] == inverse[1]
