"""The membership-inference audit and its comparison with ε."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dpshowcase.evaluate.membership import clopper_pearson, membership_audit


def test_clopper_pearson_known_values():
    # k = 0: upper bound solves (1 - p)^n = alpha
    lo, hi = clopper_pearson(0, 10, 0.05)
    assert lo == 0.0
    assert hi == pytest.approx(1 - 0.05 ** (1 / 10), abs=1e-9)
    # k = n: lower bound solves p^n = alpha
    lo, hi = clopper_pearson(10, 10, 0.05)
    assert hi == 1.0
    assert lo == pytest.approx(0.05 ** (1 / 10), abs=1e-9)
    # symmetric in the middle
    lo, hi = clopper_pearson(50, 100, 0.025)
    assert lo == pytest.approx(1 - hi, abs=1e-9)
    assert lo < 0.5 < hi


def test_an_attack_that_finds_every_member_refutes_a_small_epsilon():
    rng = np.random.default_rng(0)
    card = 30
    members = rng.integers(0, card, (6, 400))
    non_members = rng.integers(0, card, (6, 400))
    synthetic = members.copy()  # the "release" copies every member
    audit = membership_audit(members, non_members, synthetic, epsilon=0.5, delta=1e-6)
    # threshold 0: TPR 1, FPR ~0 -> ε̂ well above 0.5
    assert audit.tpr[0] == 1.0
    assert audit.fpr[0] < 0.01
    assert audit.advantage > 0.9
    assert audit.epsilon_lower_bound > 3.0
    assert audit.consistent is False
    # the same evidence is consistent with a large enough ε
    loose = membership_audit(members, non_members, synthetic, epsilon=50.0, delta=1e-6)
    assert loose.consistent is True


def test_an_uninformative_release_gives_no_evidence():
    rng = np.random.default_rng(1)
    members = rng.integers(0, 4, (5, 500))
    non_members = rng.integers(0, 4, (5, 500))
    synthetic = rng.integers(0, 4, (5, 500))  # independent of both
    audit = membership_audit(members, non_members, synthetic, epsilon=1.0, delta=1e-5)
    assert audit.epsilon_lower_bound < 0.5
    assert audit.consistent is True
    assert audit.thresholds[0] == 0
    assert len(audit.tpr) == len(audit.fpr) == len(audit.thresholds)
    assert audit.tpr[-1] == audit.fpr[-1] == 1.0


def test_without_epsilon_there_is_no_verdict():
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 3, (3, 50))
    audit = membership_audit(codes, codes, codes, epsilon=None)
    assert audit.consistent is None
    assert audit.epsilon is None
    assert math.isfinite(audit.epsilon_lower_bound)
