"""Total variation distance of marginals, and agreement with the k-marginal score."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from dpshowcase.evaluate import _kernels
from dpshowcase.evaluate.kmarginal import k_marginal_score
from dpshowcase.evaluate.marginals import marginal_fidelity


def test_one_and_two_way_tvd_by_hand():
    # column x (codes 0/1), column y (codes 0/1); 4 reference and 2 compared records
    # reference (x, y): (0,0) (0,1) (1,0) (1,0); compared: (0,0) (1,1)
    ref = np.array([[0, 0, 1, 1], [0, 1, 0, 0]])
    cmp_ = np.array([[0, 1], [0, 1]])
    result = marginal_fidelity(ref, cmp_, np.array([2, 2]), ("x", "y"), orders=(1, 2))
    # x: .5/.5 vs .5/.5 -> 0 ; y: .75/.25 vs .5/.5 -> TVD ½(.25 + .25) = .25
    assert result.one_way == pytest.approx({"x": 0.0, "y": 0.25})
    assert result.mean_tvd[1] == pytest.approx(0.125)
    # (x,y) cells 00 .25/.5, 01 .25/0, 10 .5/0, 11 0/.5 -> ½(.25+.25+.5+.5) = .75
    assert result.mean_tvd[2] == pytest.approx(0.75)
    assert result.max_tvd[2] == pytest.approx(0.75)
    assert result.worst[1][0] == (["y"], pytest.approx(0.25))
    assert result.k_marginal_score is None  # fewer than 3 columns


def _random_codes(rng, card, n):
    return np.stack([rng.integers(0, c, n) for c in card])


def test_k_marginal_score_equals_the_nist_definition():
    rng = np.random.default_rng(5)
    card = np.array([3, 2, 4, 2, 5])
    ref = _random_codes(rng, card, 300)
    cmp_ = _random_codes(rng, card, 170)
    # skew the compared table so the marginals really differ
    cmp_[1, :100] = 0
    names = tuple(f"c{i}" for i in range(card.size))
    ours = marginal_fidelity(ref, cmp_, card, names)

    def frame(codes):
        return pl.DataFrame({n: codes[i].astype(str) for i, n in enumerate(names)})

    nist = k_marginal_score(frame(ref), frame(cmp_), k=3)
    assert ours.k_marginal_score == pytest.approx(nist.overall)
    assert ours.marginals == {1: 5, 2: 10, 3: 10}


def test_dense_sparse_and_triple_paths_agree():
    rng = np.random.default_rng(9)
    card = np.array([7, 3, 11, 2, 5], dtype=np.int64)
    a = _random_codes(rng, card, 500).astype(np.uint8)
    b = _random_codes(rng, card, 321).astype(np.uint8)
    triples = np.array(list(itertools.combinations(range(5), 3)), dtype=np.int64)
    pairs = np.array(list(itertools.combinations(range(5), 2)), dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(5 - 1 - pairs[:, 1])]).astype(np.int64)
    dense = _kernels.marginal_l1(a, b, card, triples, 2, 1 << 22)
    sparse = _kernels.marginal_l1(a, b, card, triples, 2, 1)  # every marginal by sorting
    triple = _kernels.triple_l1(a, b, card, pairs, first, 2, 1 << 22)
    triple_sparse = _kernels.triple_l1(a, b, card, pairs, first, 1, 1)
    np.testing.assert_allclose(dense, sparse)
    np.testing.assert_allclose(dense, triple)
    np.testing.assert_allclose(dense, triple_sparse)


def test_identical_tables_have_zero_distance_and_score_1000():
    rng = np.random.default_rng(1)
    card = np.array([2, 3, 4])
    codes = _random_codes(rng, card, 50)
    result = marginal_fidelity(codes, codes.copy(), card, ("a", "b", "c"))
    assert result.mean_tvd == pytest.approx({1: 0.0, 2: 0.0, 3: 0.0})
    assert result.k_marginal_score == pytest.approx(1000.0)
    assert result.to_dict()["mean_tvd"]["3"] == pytest.approx(0.0)
