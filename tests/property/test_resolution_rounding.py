"""Reporting resolution k: properties of every released count (Hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dpshowcase.aggregate.count import CombinationCounts
from dpshowcase.aggregate.resolution import apply_resolution, round_down
from dpshowcase.data.attributes import AttributeIndex

COUNTS = st.lists(st.integers(0, 10_000), min_size=0, max_size=200)
K = st.integers(1, 50)


def _counts(values: list[int]) -> CombinationCounts:
    n = len(values)
    index = AttributeIndex(
        columns=("c",),
        multi_value=(False,),
        attribute_column=np.zeros(n, dtype=np.int32),
        attribute_value=tuple(f"v{i}" for i in range(n)),
    )
    return CombinationCounts(
        attributes=index,
        combinations=np.arange(n, dtype=np.int32).reshape(n, 1),
        lengths=np.ones(n, dtype=np.int8),
        counts=np.asarray(values, dtype=np.int64),
        reporting_length=1,
    )


@settings(max_examples=200, deadline=None)
@given(values=COUNTS, k=K)
def test_round_down(values: list[int], k: int) -> None:
    rounded = round_down(np.asarray(values, dtype=np.int64), k).tolist()
    for exact, r in zip(values, rounded, strict=True):
        assert r % k == 0
        assert 0 <= exact - r < k


@settings(max_examples=200, deadline=None)
@given(values=COUNTS, k=K)
def test_released_counts(values: list[int], k: int) -> None:
    exact = _counts(values).as_dict()
    released = apply_resolution(_counts(values), k).as_dict()
    for combination, count in released.items():
        assert count % k == 0
        assert count >= k
        assert count <= exact[combination]
        assert exact[combination] - count < k
    # exactly the combinations with at least k records are released
    assert set(released) == {c for c, n in exact.items() if n >= k}
