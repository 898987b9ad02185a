"""The rule on what synthetic records may hold beyond the release (issue 14, points 4-5).

No combination that was not released appears as often as its length's release
threshold (where that threshold is 0, as for triples in the default mode: the count the
noise lets through with probability 95%), and no structural zero of the schema appears
at all. Each test also checks, where it matters, that the situation arises without the
rule (so the test can fail).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import polars as pl
import pytest

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.data.demo import generate_demo_records
from dpshowcase.data.prepare import prepare
from dpshowcase.privacy.marginals import DPMarginals
from dpshowcase.schema.model import Schema
from dpshowcase.synthesize import aggregate_seeded, limits
from dpshowcase.synthesize.aggregate_seeded import AggregateSeededSynthesizer


def _unreleased_over(
    frame: pl.DataFrame, released: set[str], caps: np.ndarray, length: int
) -> list[str]:
    """The unreleased combinations of ``length`` the frame holds more often than the cap."""
    counted = count_combinations(prepare(frame, Schema.all_categorical(frame.columns)), length)
    over = []
    for label, count in zip(counted.labels().to_list(), counted.counts.tolist(), strict=True):
        k = label.count(";") + 1
        if k == length and label not in released and count > caps[k]:
            over.append(label)
    return over


@pytest.fixture(scope="module")
def protected():
    """2,000 demo records (ten columns) at ε = 1: many pairs fall below the threshold."""
    frame = generate_demo_records(2000, seed=5)
    return DPMarginals(epsilon=1, seed=4).fit(prepare(frame.select(frame.columns[:10])))


def test_limits_follow_the_release_thresholds(protected):
    caps = limits.unreleased_limits(protected)
    thresholds = {e["length"]: e["threshold"] for e in protected.parameters["lengths"]}
    assert thresholds[2] > 0, "pairs have a positive threshold in the default mode"
    assert caps[2] == int(np.ceil(thresholds[2])) - 1
    assert thresholds[3] == 0
    # triples: the detection count τ₃ + z·σ₃, whose noisy count passes τ₃ with
    # probability 95% (z the standard normal's 95th percentile)
    sigma = protected.noise.scale(3)
    detection = NormalDist().inv_cdf(0.95) * sigma
    assert caps[3] == math.ceil(detection) - 1
    # the noisy count of a triple counted caps[3] + 1 times passes 0 at least 95% of the
    # time, and one counted caps[3] times (just below the detection count) less often
    assert NormalDist(caps[3] + 1, sigma).cdf(0) <= 0.05 < NormalDist(caps[3], sigma).cdf(0)


def test_a_detection_count_below_one_record_sets_no_limit():
    # ε ≈ ∞: the triples' detection count is below one record; a limit of 0 would forbid
    # every unreleased triple and keep the fit from bringing pairs to their counts
    frame = generate_demo_records(2000, seed=5)
    sharp = DPMarginals(epsilon=1000, allow_large_epsilon=True, seed=4).fit(
        prepare(frame.select(frame.columns[:10]))
    )
    assert sharp.noise.threshold(3) == 0
    assert NormalDist().inv_cdf(0.95) * sharp.noise.scale(3) < 1
    caps = limits.unreleased_limits(sharp)
    assert caps[3] == limits.NO_LIMIT
    assert 0 < sharp.noise.threshold(2) < 1
    assert caps[2] == 0, "a positive threshold below one record still forbids"


@pytest.mark.parametrize("length", [2, 3])
def test_no_unreleased_combination_is_as_frequent_as_its_rule_threshold(
    protected, monkeypatch, length
):
    caps = limits.unreleased_limits(protected)
    released = set(protected.counts.labels().to_list())
    # a low fabrication weight lets the fit hold unreleased combinations often: the rule
    # must act (pairs: at most ⌈τ₂⌉ − 1 times; triples: below the detection count)
    frame = AggregateSeededSynthesizer(seed=2, fabrication_weight=0.05).fit(protected).sample()
    assert not _unreleased_over(frame, released, caps, length)
    monkeypatch.setattr(limits, "enforce_limits", lambda *args, **kwargs: 0)
    loose = AggregateSeededSynthesizer(seed=2, fabrication_weight=0.05).fit(protected).sample()
    assert _unreleased_over(loose, released, caps, length), "without the rule the fit breaks it"


def test_enforce_limits_clears_structural_zeros_and_keeps_the_rest():
    # slots: 0 holds attribute 0 or 1, slot 1 holds 2 or 3; zero = {1, 3}
    records = np.array([[1, 3], [1, 2], [0, 3], [1, 3], [-1, 3]], dtype=np.int32)
    slot_of = np.array([0, 0, 1, 1])
    surplus = np.array([0, 5, 0, 0], dtype=np.int64)  # attribute 1 is furthest over target
    rule = limits.Rule(
        released_keys=np.zeros(0, dtype=np.int64),
        base=5,
        reporting_length=2,
        limits=np.full(3, limits.NO_LIMIT, dtype=np.int64),
        zeros=[np.array([1, 3])],
    )
    cleared = limits.enforce_limits(records, slot_of, rule, surplus, np.random.default_rng(0))
    assert cleared == 2
    assert records.tolist() == [[-1, 3], [1, 2], [0, 3], [-1, 3], [-1, 3]]


def test_row_share_adds_records_and_is_checked(protected):
    synthesizer = AggregateSeededSynthesizer(seed=1, row_share=1.25).fit(protected)
    frame = synthesizer.sample()
    assert frame.height == round(protected.record_count * 1.25)
    for bad in (0.9, 2.6, float("nan"), True, "1.1"):
        with pytest.raises(ValueError, match="rows per protected record"):
            aggregate_seeded.check_row_share(bad)
    aggregate_seeded.check_row_share(2.5)  # the most a user may ask for
    # more rows on request: the extra ones start empty, and empty records are not written
    more = AggregateSeededSynthesizer(seed=1, row_share=2.0).fit(protected).sample()
    assert frame.height < more.height <= round(protected.record_count * 2.0)
