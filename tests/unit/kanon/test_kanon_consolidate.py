"""Row accounting of consolidation and suppression, and the records' table form."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from kanon_helpers import held_by, record_sets

from dpshowcase.data.attributes import AttributeIndex
from dpshowcase.kanon.consolidate import attribute_targets, consolidate, suppress
from dpshowcase.kanon.records import Records, from_lists, shuffled, without_empty

K = 5


def test_targets_are_counts_rounded_down_and_zero_below_k(cases):
    counts = np.bincount(cases.indices, minlength=cases.attributes.n_attributes)
    targets = attribute_targets(cases, K)
    assert (targets == np.where(counts >= K, counts // K * K, 0)).all()


def test_consolidation_adds_exactly_what_is_owed(cases):
    rng = np.random.default_rng(0)
    start = Records(
        cases.attributes, np.array([0, 1, 3], dtype=np.int64), np.array([0, 0, 5], np.int32)
    )
    targets = attribute_targets(cases, K)
    out = consolidate(cases, K, start, targets, rng)
    # the records given are kept first, as they were
    assert out.indices[:3].tolist() == [0, 0, 5]
    added = out.attribute_counts() - start.attribute_counts()
    owed = np.maximum(targets - start.attribute_counts(), 0)
    assert added.tolist() == owed.tolist()
    for attributes in record_sets(out)[2:]:
        assert held_by(cases, attributes) >= K


def test_suppression_deletes_exactly_the_excess_and_drops_empty_records():
    index = AttributeIndex(
        columns=("a", "b"),
        multi_value=(False, False),
        attribute_column=np.array([0, 1], dtype=np.int32),
        attribute_value=("x", "y"),
    )
    # 6 records: x alone ×3, x+y ×2, y alone ×1 → counts x 5, y 3
    records = from_lists(
        index,
        np.array([0, 1, 2, 3, 5, 7, 8], dtype=np.int64),
        np.array([0, 0, 0, 0, 1, 0, 1, 1], dtype=np.int64),
    )
    out = suppress(records, np.array([2, 3]), np.random.default_rng(4))
    assert out.attribute_counts().tolist() == [2, 3]
    assert (out.record_lengths() > 0).all()
    sets = record_sets(out)
    assert sum(1 for s in sets if 1 in s) == 3  # no record holding y was dropped
    assert out.n_records == 3 + sum(1 for s in sets if s == {0})
    unchanged = suppress(records, np.array([9, 9]), np.random.default_rng(4))
    assert unchanged.indices.tolist() == records.indices.tolist()


def test_records_tables_join_multi_values_and_keep_empties():
    index = AttributeIndex(
        columns=("g", "means", "empty"),
        multi_value=(False, True, False),
        attribute_column=np.array([0, 0, 1, 1], dtype=np.int32),
        attribute_value=("Female", "Male", "debt", "threats"),
    )
    records = from_lists(
        index, np.array([0, 3, 3, 4], dtype=np.int64), np.array([3, 0, 2, 1], dtype=np.int64)
    )
    frame = records.to_frame()
    assert frame.to_dicts() == [
        {"g": "Female", "means": "debt;threats", "empty": ""},
        {"g": "", "means": "", "empty": ""},
        {"g": "Male", "means": "", "empty": ""},
    ]
    back, unknown = Records.from_frame(frame, index)
    assert back.indices.tolist() == records.indices.tolist()
    assert not unknown
    odd = frame.with_columns(pl.lit("Other").alias("g"))
    _, unknown = Records.from_frame(odd, index)
    assert unknown[("g", "Other")] == 3
    assert without_empty(records).n_records == 2


def test_shuffling_keeps_every_record(cases):
    records = Records(cases.attributes, cases.indptr, cases.indices)
    mixed = shuffled(records, np.random.default_rng(1))
    assert sorted(map(sorted, record_sets(mixed))) == sorted(map(sorted, record_sets(records)))
    assert mixed.indptr.tolist() != records.indptr.tolist()


@pytest.mark.parametrize("k", [2, 5, 40])
def test_row_accounting_of_a_release(cases, k):
    """Every released attribute occurrence is in exactly one synthetic record."""
    from dpshowcase.kanon.seeded import RowSeededSynthesizer

    records = RowSeededSynthesizer(k, seed=k).fit(cases).sample()
    assert int(records.indices.size) == int(attribute_targets(cases, k).sum())
