"""Reporting resolution k: the k-anonymity protection of counts.

Every released count is rounded down to a multiple of k, and a count below k is not
released at all, so each released combination describes at least k records of the
sensitive data and no count reveals the exact number of people.
"""

from __future__ import annotations

import numpy as np

from dpshowcase.aggregate.count import CombinationCounts
from dpshowcase.errors import ParameterError


def check_resolution(resolution: int) -> None:
    """Refuse a resolution below 1."""
    if not isinstance(resolution, int) or resolution < 1:
        raise ParameterError(
            f"The resolution k must be a whole number of at least 1, not {resolution!r}."
        )


def round_down(counts: np.ndarray, resolution: int) -> np.ndarray:
    """Counts rounded down to a multiple of ``resolution``."""
    check_resolution(resolution)
    return (np.asarray(counts, dtype=np.int64) // resolution) * resolution


def apply_resolution(counts: CombinationCounts, resolution: int) -> CombinationCounts:
    """Only combinations with at least ``resolution`` records, counts rounded down to k."""
    rounded = round_down(counts.counts, resolution)
    keep = rounded >= resolution
    return counts.with_counts(rounded).filter(keep)
