"""k-protected aggregates: exact counts at reporting resolution k, as a public object.

The counts released are those of :func:`~dpshowcase.aggregate.resolution.apply_resolution`:
only combinations held by at least k records, each count rounded down to a multiple
of k. The number of records is rounded down to a multiple of k as well. The result is
a :class:`~dpshowcase.aggregate.protected.ProtectedAggregates` in mode
``"k-anonymity"`` whose attribute index lists only the released attributes.

k-anonymity is not differential privacy: it promises that nothing released describes
fewer than k records, nothing about what can be learnt by combining releases.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dpshowcase.aggregate.count import CombinationCounts
from dpshowcase.aggregate.protected import (
    ProtectedAggregates,
    issue_protected,
    restrict_to_attributes,
)
from dpshowcase.aggregate.resolution import apply_resolution, round_down
from dpshowcase.errors import ParameterError

MIN_K = 2
"""k = 1 protects nothing: every combination describes at least one record anyway."""


def check_k(k: int) -> None:
    """Refuse a k that is not a whole number of at least 2."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < MIN_K:
        raise ParameterError(
            f"k must be a whole number of at least {MIN_K} (10 or 11 is usual), not {k!r}."
        )


def k_guarantee(k: int, reporting_length: int) -> str:
    """The guarantee of a k-anonymous release, in one sentence."""
    return (
        f"Every released count and every combination of up to {reporting_length} attributes "
        f"in the synthetic records describes at least {k} records of the sensitive data "
        f"(k-anonymity with k = {k}; counts are rounded down to a multiple of {k})."
    )


def k_protect(
    exact: CombinationCounts,
    n_records: int,
    k: int,
    *,
    privacy_unit: str = "record",
    parameters: dict[str, Any] | None = None,
) -> ProtectedAggregates:
    """The k-protected aggregates of ``exact`` (the exact counts of ``n_records`` records).

    ``parameters`` are added to the protection's own (k, reporting length, privacy unit).
    """
    check_k(k)
    released = apply_resolution(exact, k)
    singles = released.lengths == 1
    keep = np.zeros(exact.attributes.n_attributes, dtype=bool)
    keep[released.combinations[singles, 0]] = True
    counts = restrict_to_attributes(released, keep)
    record_count = int(round_down(np.array([n_records]), k)[0])
    return issue_protected(
        counts=counts,
        record_count=record_count,
        mode="k-anonymity",
        guarantee=k_guarantee(k, exact.reporting_length),
        parameters={
            "k": k,
            "reporting_length": exact.reporting_length,
            "privacy_unit": privacy_unit,
            "record_count_rounded_down_to_k": True,
            **(parameters or {}),
        },
        private=True,
    )
