"""Distributional fidelity: total variation distance of all 1-, 2- and 3-way marginals.

A *k-way marginal* is the table of relative frequencies of the value combinations of k
record columns (see :mod:`._space`: a single-valued column, or one yes/no column per
value of a multi-value column). Absence is a value of its own: a table that leaves a
column empty more often than the reference is penalised like one that swaps values.

For two tables with frequencies ``p`` and ``q`` over the cells ``c`` of a marginal,
``TVD = ½ Σ_c |p(c) − q(c)|`` ∈ [0, 1]: the largest difference in the share of records
that any question about those columns can show (0: identical, 1: disjoint).

The **NIST CRC k-marginal score** without a group column is the same quantity on a
0–1000 scale: ``(2 − mean Σ_c|p − q|) × 500 = 1000 × (1 − mean TVD)`` over all 3-way
marginals — :func:`~dpshowcase.evaluate.kmarginal.k_marginal_score` with ``k=3``
gives the same figure (a test checks it); it is derived here from the compiled
tabulation because the polars version takes minutes on 35 columns (6,545 marginals).
The score with SDNist's PUMA grouping is :func:`k_marginal_score` itself.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dpshowcase._threads import kernel_threads
from dpshowcase.evaluate import _kernels
from dpshowcase.evaluate._space import compact_codes

__all__ = ["MarginalFidelity", "marginal_fidelity"]

WORST_SHOWN = 10
"""How many of the least faithful marginals of each order are named."""


@dataclass(frozen=True)
class MarginalFidelity:
    """TVD of every k-way marginal between a reference and a compared table."""

    reference: str
    compared: str
    mean_tvd: dict[int, float]
    """Per order k: the mean TVD over all k-subsets of record columns."""
    max_tvd: dict[int, float]
    marginals: dict[int, int]
    """Per order k: how many marginals were compared."""
    k_marginal_score: float | None
    """1000 × (1 − mean 3-way TVD); None with fewer than 3 record columns."""
    worst: dict[int, list[tuple[list[str], float]]] = field(default_factory=dict)
    """Per order: the least faithful marginals (column names, TVD), worst first."""
    one_way: dict[str, float] = field(default_factory=dict)
    """TVD of each record column's own distribution."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for metrics.json (orders as string keys)."""
        return {
            "reference": self.reference,
            "compared": self.compared,
            "mean_tvd": {str(k): v for k, v in self.mean_tvd.items()},
            "max_tvd": {str(k): v for k, v in self.max_tvd.items()},
            "marginals": {str(k): v for k, v in self.marginals.items()},
            "k_marginal_score": self.k_marginal_score,
            "worst": {
                str(k): [{"columns": cols, "tvd": tvd} for cols, tvd in rows]
                for k, rows in self.worst.items()
            },
            "one_way": self.one_way,
        }


def marginal_fidelity(
    reference: np.ndarray,
    compared: np.ndarray,
    cardinality: np.ndarray,
    names: tuple[str, ...] | list[str],
    *,
    orders: tuple[int, ...] = (1, 2, 3),
    reference_name: str = "sensitive",
    compared_name: str = "synthetic",
) -> MarginalFidelity:
    """TVD of all k-way marginals (k in ``orders``) of two tables of record codes.

    ``reference`` and ``compared`` have shape (record columns, records); codes of a
    column run from 0 to ``cardinality − 1``.
    """
    card = np.asarray(cardinality, dtype=np.int64)
    a = compact_codes(reference, card)
    b = compact_codes(compared, card)
    n_columns = card.size
    mean: dict[int, float] = {}
    worst_tvd: dict[int, float] = {}
    count: dict[int, int] = {}
    worst: dict[int, list[tuple[list[str], float]]] = {}
    one_way: dict[str, float] = {}
    for k in orders:
        if k > n_columns or a.shape[1] == 0 or b.shape[1] == 0:
            continue
        subsets = np.array(list(itertools.combinations(range(n_columns), k)), dtype=np.int64)
        subsets = subsets.reshape(-1, k)
        # every marginal reads its k columns of both tables
        with kernel_threads((a.shape[1] + b.shape[1]) * subsets.size) as threads:
            if k == 3:
                pairs = np.array(list(itertools.combinations(range(n_columns), 2)), np.int64)
                first = np.concatenate([[0], np.cumsum(n_columns - 1 - pairs[:, 1])])
                first = first.astype(np.int64)
                l1 = _kernels.triple_l1(a, b, card, pairs, first, threads, _kernels.DENSE_CELLS)
            else:
                l1 = _kernels.marginal_l1(a, b, card, subsets, threads, _kernels.DENSE_CELLS)
        tvd = 0.5 * l1
        mean[k] = float(tvd.mean())
        worst_tvd[k] = float(tvd.max())
        count[k] = int(tvd.size)
        top = np.argsort(-tvd, kind="stable")[:WORST_SHOWN]
        worst[k] = [([names[int(c)] for c in subsets[i]], float(tvd[i])) for i in top]
        if k == 1:
            one_way = {names[int(s[0])]: float(t) for s, t in zip(subsets, tvd, strict=True)}
    score = 1000.0 * (1.0 - mean[3]) if 3 in mean else None
    return MarginalFidelity(
        reference=reference_name,
        compared=compared_name,
        mean_tvd=mean,
        max_tvd=worst_tvd,
        marginals=count,
        k_marginal_score=score,
        worst=worst,
        one_way=one_way,
    )
