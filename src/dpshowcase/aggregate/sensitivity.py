"""Record sensitivity: how many combinations of each length one record yields.

A record with ``m`` attributes yields ``C(m, k)`` combinations of length ``k``. The
spread of these numbers says how much one person can move the released counts, which
is what DP noise must cover and what a contribution bound trims.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dpshowcase.data.encode import SensitiveData


@dataclass(frozen=True)
class LengthSensitivity:
    """Per-record combination counts at one length, summarised."""

    length: int
    mean: float
    median: float
    p99: float
    maximum: int


def combinations_per_record(record_lengths: np.ndarray, k: int) -> np.ndarray:
    """``C(m, k)`` for every record length ``m`` (exact integers)."""
    m = record_lengths.astype(np.int64)
    out = np.ones_like(m)
    for i in range(k):
        out = out * (m - i) // (i + 1)
    return np.where(m >= k, out, 0)


def sensitivity(data: SensitiveData, reporting_length: int) -> list[LengthSensitivity]:
    """Summary of per-record combination counts for lengths 1..R."""
    lengths = data.record_lengths()
    out = []
    for k in range(1, reporting_length + 1):
        per_record = combinations_per_record(lengths, k)
        out.append(
            LengthSensitivity(
                length=k,
                mean=float(per_record.mean()) if per_record.size else 0.0,
                median=float(np.median(per_record)) if per_record.size else 0.0,
                p99=float(np.percentile(per_record, 99)) if per_record.size else 0.0,
                maximum=int(per_record.max()) if per_record.size else 0,
            )
        )
    return out
