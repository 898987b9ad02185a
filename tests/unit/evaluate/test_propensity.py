"""The propensity (discriminator) score."""

from __future__ import annotations

import numpy as np
import pytest

from dpshowcase.evaluate.propensity import _auc, propensity_score


def test_auc_by_hand():
    # positives score .9 and .4, negatives .5 and .1: pairs (pos > neg) = 3 of 4 -> .75
    scores = np.array([0.9, 0.4, 0.5, 0.1])
    labels = np.array([1, 1, 0, 0])
    assert _auc(scores, labels) == pytest.approx(0.75)
    # ties count half: all equal -> .5
    assert _auc(np.full(4, 0.3), labels) == pytest.approx(0.5)


def test_same_distribution_is_hard_to_tell_apart():
    rng = np.random.default_rng(0)
    card = np.array([3, 4, 2, 5])
    real = np.stack([rng.integers(0, c, 3000) for c in card])
    synthetic = np.stack([rng.integers(0, c, 3000) for c in card])
    result = propensity_score(real, synthetic, card, seed=1)
    assert result.records_per_table == 3000
    assert result.auc == pytest.approx(0.5, abs=0.04)
    assert result.pmse < 0.01  # out-of-fold noise of the pair weights only
    assert result.pmse_normalised == pytest.approx(result.pmse / 0.25)


def test_a_broken_pair_structure_is_detected():
    # same 1-way marginals, but in the real data column 1 copies column 0 and in the
    # synthetic data it is independent: only the pair terms can see it
    rng = np.random.default_rng(2)
    n = 3000
    x = rng.integers(0, 2, n)
    real = np.stack([x, x])
    synthetic = np.stack([rng.integers(0, 2, n), rng.integers(0, 2, n)])
    result = propensity_score(real, synthetic, np.array([2, 2]), seed=3)
    assert result.auc > 0.7
    assert result.pmse_normalised > 0.1


def test_too_few_records():
    result = propensity_score(np.zeros((2, 1), int), np.zeros((2, 5), int), np.array([1, 1]))
    assert result.model.startswith("none")
