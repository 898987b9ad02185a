"""How closely synthetic counts agree with the released (protected) counts.

Both sides are public — the released aggregates and the synthetic records — so these
figures may be published with the release (parameters.json).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dpshowcase.aggregate.count import CombinationCounts
from dpshowcase.aggregate.keys import pack
from dpshowcase.aggregate.protected import ProtectedAggregates
from dpshowcase.kanon.guarantee import lookup
from dpshowcase.kanon.records import index_map


@dataclass(frozen=True)
class LengthAgreement:
    """Synthetic beside released counts, for the released combinations of one length."""

    length: int
    released: int
    """Released combinations of this length."""
    exact: int
    """How many of them have exactly the released count in the synthetic data."""
    max_abs_error: int
    """Largest |synthetic − released| over them."""
    relative_l1: float
    """Σ|synthetic − released| / Σ released."""

    def as_dict(self) -> dict[str, Any]:
        """For parameters.json and reports."""
        return {
            "length": self.length,
            "released": self.released,
            "synthetic_equal_to_released": self.exact,
            "max_abs_error": self.max_abs_error,
            "relative_l1_error": round(self.relative_l1, 6),
        }


def agreement(
    aggregates: ProtectedAggregates, synthetic: CombinationCounts
) -> list[LengthAgreement]:
    """Per length, how the synthetic counts of released combinations meet the released counts.

    ``synthetic`` may use any attribute index holding the released attributes.
    """
    released = aggregates.counts
    base = synthetic.attributes.n_attributes + 1
    to_synthetic = index_map(released.attributes, synthetic.attributes)
    ids = released.combinations.astype(np.int64)
    mapped = np.where(ids >= 0, to_synthetic[np.maximum(ids, 0)], -1)
    unknown = np.any((ids >= 0) & (mapped < 0), axis=1)
    mapped = np.sort(np.where(mapped >= 0, mapped, np.iinfo(np.int64).max), axis=1)
    mapped = np.where(mapped == np.iinfo(np.int64).max, -1, mapped)
    keys = pack(mapped, base)
    synthetic_keys = pack(synthetic.combinations, base)
    order = np.argsort(synthetic_keys)
    synthetic_keys = synthetic_keys[order]
    synthetic_counts = synthetic.counts[order]
    values = np.where(unknown, 0, lookup(synthetic_keys, synthetic_counts, keys))
    error = np.abs(values - released.counts)
    out = []
    for length in range(1, aggregates.reporting_length + 1):
        mask = released.lengths == length
        total = int(released.counts[mask].sum())
        out.append(
            LengthAgreement(
                length=length,
                released=int(mask.sum()),
                exact=int((error[mask] == 0).sum()),
                max_abs_error=int(error[mask].max()) if mask.any() else 0,
                relative_l1=float(error[mask].sum() / total) if total else 0.0,
            )
        )
    return out
