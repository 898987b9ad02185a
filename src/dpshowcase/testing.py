"""Test-only helpers: never used by dpshowcase itself (``tests/unit/test_layers.py`` checks).

:func:`protected_aggregates_for_tests` is the one named bypass of the privacy boundary:
it makes :class:`~dpshowcase.aggregate.protected.ProtectedAggregates` from counts given
by hand, without any protection mechanism. Tests of what comes *after* protection
(bundles, datasheets, synthesizers) use it to hold their input fixed; nothing built with
it is protected, whatever its ``guarantee`` says.
"""

from __future__ import annotations

from typing import Any

from dpshowcase.aggregate.count import CombinationCounts
from dpshowcase.aggregate.protected import (
    NoiseDescription,
    ProtectedAggregates,
    Protection,
    issue_protected,
)

__all__ = ["protected_aggregates_for_tests"]


def protected_aggregates_for_tests(
    counts: CombinationCounts,
    *,
    record_count: int,
    mode: Protection = "dp",
    guarantee: str = "Made by hand for a test: NOT protected.",
    parameters: dict[str, Any] | None = None,
    private: bool = True,
    noise: NoiseDescription | None = None,
) -> ProtectedAggregates:
    """TEST-ONLY BYPASS: ``counts`` wrapped as if a mechanism had protected them.

    For tests of post-processing code only; a release built from this is not private.
    """
    return issue_protected(
        counts=counts,
        record_count=record_count,
        mode=mode,
        guarantee=guarantee,
        parameters=dict(parameters or {}),
        private=private,
        noise=noise,
    )
