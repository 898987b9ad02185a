"""Aggregate-seeded k-anonymity: post-processing of the release, released combinations only."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from kanon_helpers import record_sets

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.errors import ParameterError
from dpshowcase.kanon.aggregate_seeded import KAggregateSeededSynthesizer, released_only
from dpshowcase.kanon.protect import k_protect
from dpshowcase.kanon.records import Records
from dpshowcase.testing import protected_aggregates_for_tests

K = 5
R = 2


@pytest.fixture(scope="module")
def aggregates(cases):
    return k_protect(count_combinations(cases, R), cases.n_records, K)


def test_records_hold_released_combinations_only(aggregates):
    records = KAggregateSeededSynthesizer(seed=1).fit(aggregates).sample()
    released = set(aggregates.counts.as_dict())
    for attributes in record_sets(records):
        for length in range(1, R + 1):
            for combination in itertools.combinations(sorted(attributes), length):
                assert combination in released


def test_the_repair_moves_attributes_instead_of_deleting_them(aggregates):
    index = aggregates.attributes
    released = aggregates.counts.as_dict()
    # one record holding an unreleased pair: both attributes are released alone
    pair = next(
        (a, b)
        for a, b in itertools.combinations(range(index.n_attributes), 2)
        if (a, b) not in released and index.attribute_column[a] != index.attribute_column[b]
    )
    frame = Records(
        index, np.array([0, 2], dtype=np.int64), np.array(pair, dtype=np.int32)
    ).to_frame()
    repaired = released_only(frame, aggregates, np.random.default_rng(0))
    assert repaired.attribute_counts().tolist() == [
        1 if a in pair else 0 for a in range(index.n_attributes)
    ]
    assert sorted(map(sorted, record_sets(repaired))) == [[pair[0]], [pair[1]]]


def test_only_k_protected_aggregates_are_accepted(aggregates):
    with pytest.raises(ParameterError, match="takes k-protected aggregates"):
        KAggregateSeededSynthesizer().fit(
            protected_aggregates_for_tests(
                aggregates.counts, record_count=aggregates.record_count, mode="dp"
            )
        )
    with pytest.raises(ParameterError, match="Call fit"):
        KAggregateSeededSynthesizer().sample()
