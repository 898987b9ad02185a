"""Published counts of longer combinations: the synthetic records' counts, raised where
they fall more than RAISE_SCALES noise scales short of the combination's measurement."""

from __future__ import annotations

import numpy as np
import pytest

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.aggregate.protected import ProtectedAggregates
from dpshowcase.data.demo import generate_demo_records
from dpshowcase.data.prepare import prepare
from dpshowcase.kanon.protect import k_protect
from dpshowcase.privacy.marginals import DPMarginals
from dpshowcase.synthesize.aggregate_seeded import AggregateSeededSynthesizer
from dpshowcase.synthesize.published import RAISE_SCALES, raise_to_measurements


@pytest.fixture(scope="module")
def protected() -> ProtectedAggregates:
    frame = generate_demo_records(3000, seed=5)
    return DPMarginals(epsilon=1, seed=5).fit(prepare(frame.select(frame.columns[:8])))


def _floor(protected: ProtectedAggregates, row: int) -> int:
    k = int(protected.counts.lengths[row])
    return int(np.ceil(protected.counts.counts[row] - RAISE_SCALES * protected.noise.scale(k)))


def _index(protected: ProtectedAggregates) -> dict[tuple[int, ...], int]:
    counts = protected.counts
    return {
        tuple(int(a) for a in counts.combinations[i, : counts.lengths[i]]): i
        for i in range(len(counts))
    }


def test_only_counts_far_below_their_measurement_are_raised(protected) -> None:
    counts = protected.counts
    published = counts.counts.astype(np.int64).copy()
    longer = np.flatnonzero(counts.lengths >= 2)
    rng = np.random.default_rng(0)
    far = rng.choice(longer, size=20, replace=False)  # far below: to 0
    near = np.setdiff1d(rng.choice(longer, size=40, replace=False), far)
    published[far] = 0
    for row in near:  # short of the measurement, but by less than the margin
        published[row] = max(_floor(protected, row), 0)
    out, raised = raise_to_measurements(protected, published)
    assert (out >= published).all(), "never lowered"
    assert (out[counts.lengths == 1] == published[counts.lengths == 1]).all()
    np.testing.assert_array_equal(out[near], published[near])
    changed = np.flatnonzero(out != published)
    assert set(changed) <= set(far)
    assert sum(raised.values()) == changed.size > 0
    for row in changed:
        assert out[row] <= _floor(protected, row)


def test_a_raised_count_never_exceeds_a_combination_it_contains(protected) -> None:
    """Lowering every single to 1 caps every raised pair at 1, and so every triple."""
    counts = protected.counts
    published = counts.counts.astype(np.int64).copy()
    published[counts.lengths == 1] = 1
    published[counts.lengths >= 2] = 0
    out, _ = raise_to_measurements(protected, published)
    index = _index(protected)
    assert out.max() == 1
    for combination, row in index.items():
        for drop in range(len(combination)):
            sub = combination[:drop] + combination[drop + 1 :]
            if len(sub) and sub in index:
                assert out[row] <= out[index[sub]]


def test_nothing_is_raised_without_noise() -> None:
    frame = generate_demo_records(600, seed=1)
    cases = prepare(frame.select(frame.columns[:6]))
    exact = k_protect(count_combinations(cases, 3), cases.n_records, 5)
    published = np.zeros(len(exact.counts), dtype=np.int64)
    out, raised = raise_to_measurements(exact, published)
    assert raised == {}
    assert (out == 0).all()


def test_the_release_lists_the_records_counts_except_where_it_raised_them(protected) -> None:
    synthesizer = AggregateSeededSynthesizer(seed=5).fit(protected)
    synthesizer.sample()
    fitted = synthesizer.fitted_aggregates()
    synthetic = synthesizer.synthetic_aggregates().counts.as_dict()
    measured = protected.counts.as_dict()
    listed = fitted.counts.as_dict()
    raised = fitted.parameters.get("raised_to_measurement", {})
    noise = protected.noise
    n_raised = 0
    for combination, count in listed.items():
        k = len(combination)
        if k == 1:
            assert count == measured[combination]
        elif count != synthetic[combination]:
            n_raised += 1
            floor = np.ceil(measured[combination] - RAISE_SCALES * noise.scale(k))
            assert synthetic[combination] < count <= floor
    assert n_raised == sum(int(n) for n in raised.values()) > 0  # 11 pairs here
