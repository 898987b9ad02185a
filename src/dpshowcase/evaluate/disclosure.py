"""Privacy risk indicators on whole records: matches and distance to the closest record.

These compare synthetic records with the sensitive records they stand in for. They are
*indicators*, not guarantees: a DP release may contain exact copies of common real
records (a record everybody shares says nothing about anyone), and a release with no
copies may still leak. What matters most is copies of records that are *unique* in
the sensitive data, and synthetic records closer to the real ones than real records
are to each other.

- **exact matches**: synthetic records identical (in every record column, absence
  included) to at least one sensitive record; as a count and a share of synthetic rows.
- **unique matches**: synthetic records identical to a sensitive record that is unique
  in the sensitive data; and the SDNist figure "unique exact matches": how many of the
  sensitive data's unique records appear in the synthetic data, and their share of all
  sensitive uniques.
- **distance to closest record (DCR)**: for a random sample of synthetic records, the
  number of record columns in which it differs from the nearest sensitive record
  (Hamming distance). The *baseline* is the same distance from a sample of sensitive
  records to the nearest *other* sensitive record: synthetic records systematically
  closer than that would be a warning sign.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from dpshowcase._threads import kernel_threads
from dpshowcase.evaluate import _kernels

__all__ = [
    "DistanceToClosest",
    "MatchRisk",
    "distance_to_closest",
    "distinct_rows",
    "match_risk",
    "nearest_distances",
]

DCR_SAMPLE = 1_000
"""Records whose distance to the closest record is computed (per table)."""


@dataclass(frozen=True)
class MatchRisk:
    """Synthetic records that copy sensitive ones."""

    synthetic_records: int
    sensitive_records: int
    exact_matches: int
    """Synthetic records identical to some sensitive record."""
    exact_match_share: float
    unique_matches: int
    """Synthetic records identical to a record unique in the sensitive data."""
    unique_match_share: float
    sensitive_uniques: int
    """Records unique in the sensitive data."""
    sensitive_uniques_matched: int
    """Of those, how many appear in the synthetic data (SDNist: unique exact matches)."""
    sensitive_uniques_matched_share: float

    def to_dict(self) -> dict[str, Any]:
        """Plain data for metrics.json."""
        return asdict(self)


@dataclass(frozen=True)
class DistanceToClosest:
    """Distances (in record columns) to the closest sensitive record."""

    columns: int
    sample: int
    synthetic_histogram: list[int]
    """Synthetic records at distance 0, 1, 2, … from the closest sensitive record."""
    baseline_histogram: list[int]
    """Sensitive records at distance 0, 1, 2, … from the closest other sensitive record."""
    synthetic_median: float
    baseline_median: float
    synthetic_at_zero: float
    """Share of sampled synthetic records with a sensitive copy."""
    baseline_at_zero: float
    """Share of sampled sensitive records with another identical sensitive record."""
    closer_than_baseline: float
    """P(synthetic DCR < baseline DCR) − P(synthetic DCR > baseline DCR), in [−1, 1]:
    positive when synthetic records sit closer to real ones than real ones to each other."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for metrics.json."""
        return asdict(self)


def distinct_rows(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct records of ``codes`` (columns, records): (rows, inverse, counts).

    ``rows`` has shape (distinct, columns), row-major.
    """
    records: np.ndarray = np.ascontiguousarray(codes.T.astype(_narrow(codes)))
    if records.shape[0] == 0:
        return records, np.zeros(0, np.int64), np.zeros(0, np.int64)
    view = records.view(np.dtype((np.void, records.dtype.itemsize * records.shape[1])))
    _, first, inverse, counts = np.unique(
        view.ravel(), return_index=True, return_inverse=True, return_counts=True
    )
    return records[first], inverse.ravel(), counts


def match_risk(sensitive: np.ndarray, synthetic: np.ndarray) -> MatchRisk:
    """Exact and unique matches between two tables of record codes (columns, records)."""
    n_sens = sensitive.shape[1]
    n_syn = synthetic.shape[1]
    both = np.concatenate([sensitive, synthetic], axis=1)
    _, inverse, _ = distinct_rows(both)
    groups = int(inverse.max()) + 1 if inverse.size else 0
    sens_count = np.bincount(inverse[:n_sens], minlength=groups)
    syn_count = np.bincount(inverse[n_sens:], minlength=groups)
    syn_group = inverse[n_sens:]
    exact = int((sens_count[syn_group] > 0).sum())
    unique = int((sens_count[syn_group] == 1).sum())
    uniques = sens_count == 1
    n_uniques = int(uniques.sum())
    matched = int((uniques & (syn_count > 0)).sum())
    return MatchRisk(
        synthetic_records=n_syn,
        sensitive_records=n_sens,
        exact_matches=exact,
        exact_match_share=exact / n_syn if n_syn else 0.0,
        unique_matches=unique,
        unique_match_share=unique / n_syn if n_syn else 0.0,
        sensitive_uniques=n_uniques,
        sensitive_uniques_matched=matched,
        sensitive_uniques_matched_share=matched / n_uniques if n_uniques else 0.0,
    )


def distance_to_closest(
    sensitive: np.ndarray, synthetic: np.ndarray, *, sample: int = DCR_SAMPLE, seed: int = 0
) -> DistanceToClosest:
    """Hamming distance to the closest sensitive record, and the real-to-real baseline."""
    rng = np.random.default_rng(seed)
    n_columns = sensitive.shape[0]
    # columns with many values first: a mismatch is found, and a candidate left, sooner
    order = np.argsort(-sensitive.max(axis=1, initial=0), kind="stable")
    sensitive, synthetic = sensitive[order], synthetic[order]
    refs, inverse, counts = distinct_rows(sensitive)
    syn_pick = _sample(synthetic.shape[1], sample, rng)
    syn_d = nearest_distances(refs, synthetic[:, syn_pick])

    sens_pick = _sample(sensitive.shape[1], sample, rng)
    groups = inverse[sens_pick]
    base_d = np.zeros(sens_pick.size, dtype=np.int32)
    alone = counts[groups] == 1  # a record with an identical twin is at distance 0
    if alone.any():
        with kernel_threads(int(alone.sum()) * refs.size):  # each query against every ref
            base_d[alone] = _kernels.nearest_hamming(
                np.ascontiguousarray(refs[groups[alone]]), refs, groups[alone].astype(np.int64), 1
            )
    return DistanceToClosest(
        columns=n_columns,
        sample=int(syn_pick.size),
        synthetic_histogram=np.bincount(syn_d, minlength=n_columns + 1).tolist(),
        baseline_histogram=np.bincount(base_d, minlength=n_columns + 1).tolist(),
        synthetic_median=float(np.median(syn_d)) if syn_d.size else 0.0,
        baseline_median=float(np.median(base_d)) if base_d.size else 0.0,
        synthetic_at_zero=float(np.mean(syn_d == 0)) if syn_d.size else 0.0,
        baseline_at_zero=float(np.mean(base_d == 0)) if base_d.size else 0.0,
        closer_than_baseline=_dominance(syn_d, base_d),
    )


def nearest_distances(refs: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Hamming distance from each query record (columns, records) to the closest of the
    distinct rows ``refs`` (distinct, columns); exact copies are found by hashing first."""
    rows = np.ascontiguousarray(queries.T.astype(refs.dtype))
    out = np.zeros(rows.shape[0], dtype=np.int32)
    if rows.shape[0] == 0:
        return out
    if refs.shape[0] == 0:
        out[:] = rows.shape[1]
        return out
    width = refs.dtype.itemsize * refs.shape[1]
    known = np.isin(
        rows.view(np.dtype((np.void, width))).ravel(),
        np.ascontiguousarray(refs).view(np.dtype((np.void, width))).ravel(),
    )
    rest = ~known
    if rest.any():
        with kernel_threads(int(rest.sum()) * refs.size):  # each query against every ref
            out[rest] = _kernels.nearest_hamming(
                np.ascontiguousarray(rows[rest]), refs, np.full(int(rest.sum()), -1, np.int64), 1
            )
    return out


def _narrow(codes: np.ndarray) -> type:
    """The narrowest unsigned type holding every code (comparisons stream fewer bytes)."""
    top = int(codes.max(initial=0))
    return np.uint8 if top < 1 << 8 else np.uint16 if top < 1 << 16 else np.int32


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size, replace=False))


def _dominance(a: np.ndarray, b: np.ndarray) -> float:
    """P(a < b) − P(a > b) for independent draws from the two samples."""
    if a.size == 0 or b.size == 0:
        return 0.0
    top = int(max(a.max(), b.max())) + 1
    pa = np.bincount(a, minlength=top) / a.size
    pb = np.bincount(b, minlength=top) / b.size
    cb = np.cumsum(pb)
    less = float(np.sum(pa * (1.0 - cb)))  # P(a < b): b strictly greater than a
    greater = float(np.sum(pa[1:] * cb[:-1]))  # P(a > b)
    return less - greater
