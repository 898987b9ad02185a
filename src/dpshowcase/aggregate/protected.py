"""Protected aggregates: the boundary between sensitive data and everything public.

A :class:`ProtectedAggregates` is what a protection mechanism (DP marginals or
k-anonymity) returns. It holds only protected counts, the attributes that survived
protection, the protected record count and the statement of the guarantee. Synthesis,
evaluation of a release and the dashboards take this object, never sensitive records,
so the guarantee carries over to everything derived from it (post-processing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from dpshowcase.aggregate.count import CombinationCounts
from dpshowcase.data.attributes import AttributeIndex
from dpshowcase.errors import InternalError


@dataclass(frozen=True, eq=False)
class ProtectedAggregates:
    """Protected counts of attribute combinations and the guarantee that protects them."""

    counts: CombinationCounts
    """Protected counts; its attribute index lists only released attributes."""
    record_count: int
    """The protected (noisy, or declared public) number of records."""
    mode: Literal["dp", "k-anonymity"]
    """Which protection produced the counts."""
    guarantee: str
    """The guarantee in one sentence."""
    parameters: dict[str, Any] = field(default_factory=dict)
    """Every parameter that produced the counts (for parameters.json)."""
    private: bool = True
    """False when noise was seeded (tests, demos): such output is not for release."""

    @property
    def attributes(self) -> AttributeIndex:
        """The released attributes."""
        return self.counts.attributes

    @property
    def reporting_length(self) -> int:
        """R: the longest released combination."""
        return self.counts.reporting_length

    def single_attribute_counts(self) -> np.ndarray:
        """Protected count of each released attribute (0 where not released)."""
        out = np.zeros(self.attributes.n_attributes, dtype=np.int64)
        ones = self.counts.lengths == 1
        out[self.counts.combinations[ones, 0]] = self.counts.counts[ones]
        return out


def restrict_to_attributes(counts: CombinationCounts, keep: np.ndarray) -> CombinationCounts:
    """The same counts with an attribute index holding only the attributes in ``keep``.

    Every combination must use kept attributes only.
    """
    index, new_ids = counts.attributes.subset(keep)
    combos = counts.combinations.astype(np.int64)
    remapped = np.where(combos >= 0, new_ids[np.maximum(combos, 0)], -1)
    if np.any((combos >= 0) & (remapped < 0)):
        raise InternalError("a combination uses an attribute that is not kept")
    return CombinationCounts(
        attributes=index,
        combinations=remapped.astype(np.int32),
        lengths=counts.lengths,
        counts=counts.counts,
        reporting_length=counts.reporting_length,
    )
