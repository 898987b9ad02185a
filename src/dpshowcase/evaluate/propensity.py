"""Propensity (discriminator) score: can a classifier tell synthetic from real records?

Method (Snoke, Raab, Nowok, Dibben & Slavković 2018, "General and specific utility
measures for synthetic data"): pool ``n`` real and ``n`` synthetic records (a random
sample of each, equal sizes, so the share of synthetic records is c = ½), label them,
fit a classifier, and measure how far its predicted probabilities ``p_i`` stray from c:

    pMSE = (1/2n) Σ_i (p_i − c)²            ∈ [0, c(1 − c)] = [0, ¼]

0 means the classifier cannot tell the two apart; ¼ means it separates them perfectly.
``pmse_normalised = pMSE / (c(1 − c))`` puts it on [0, 1]. Probabilities are
*cross-fitted* (two folds: each half is predicted by the model fitted on the other), so
a flexible model is not rewarded for memorising; the AUC of the same out-of-fold
predictions is reported too (0.5: indistinguishable).

The classifier is an L2-regularised logistic regression on the one-hot codes of every
record column *and of every pair of columns* (hashed into at most 2²² weights), fitted
by a few epochs of stochastic gradient descent in a compiled loop. Main effects alone
would only see the 1-way marginals, which aggregate-seeded synthesis matches by
construction; the pair terms let it see 2-way structure, a tree model would see more.
Why not scikit-learn: it would add a large compiled dependency (and its own threading)
for one metric, while this model is ~60 lines, deterministic for a seed, and fits 40,000
records with 600 pair terms in about a second.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from dpshowcase._threads import kernel_threads
from dpshowcase.evaluate import _kernels

__all__ = ["PropensityScore", "propensity_score"]

MAX_RECORDS = 20_000
"""Records drawn from each table (the smaller table's size when it has fewer)."""
MAX_WEIGHTS = 1 << 22
EPOCHS = 5
LEARNING_RATE = 0.5
"""Step size per record, divided by the number of active features."""
L2 = 1e-4


@dataclass(frozen=True)
class PropensityScore:
    """How well a discriminator separates synthetic from real records."""

    pmse: float
    pmse_normalised: float
    """pMSE / (c(1 − c)): 0 indistinguishable, 1 perfectly separated."""
    auc: float
    """Area under the ROC curve of the out-of-fold predictions (0.5: chance)."""
    records_per_table: int
    model: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data for metrics.json."""
        return asdict(self)


def propensity_score(
    real: np.ndarray,
    synthetic: np.ndarray,
    cardinality: np.ndarray,
    *,
    max_records: int = MAX_RECORDS,
    seed: int = 0,
) -> PropensityScore:
    """pMSE, normalised pMSE and AUC of a cross-fitted discriminator (module docstring).

    ``real`` and ``synthetic`` are record codes of shape (record columns, records).
    """
    rng = np.random.default_rng(seed)
    n = int(min(real.shape[1], synthetic.shape[1], max_records))
    if n < 2:
        return PropensityScore(0.0, 0.0, 0.5, n, "none: too few records")
    rows = np.concatenate(
        [
            real[:, rng.choice(real.shape[1], n, replace=False)].T,
            synthetic[:, rng.choice(synthetic.shape[1], n, replace=False)].T,
        ]
    ).astype(np.int32)
    rows = np.ascontiguousarray(rows)  # int32: the feature hashing multiplies codes
    labels = np.concatenate([np.zeros(n), np.ones(n)])
    card = np.asarray(cardinality, dtype=np.int64)
    main_offset = np.concatenate([[0], np.cumsum(card)[:-1]]).astype(np.int64)
    pairs = np.array(list(itertools.combinations(range(card.size), 2)), dtype=np.int64)
    pairs = pairs.reshape(-1, 2)
    pair_i, pair_j = pairs[:, 0].copy(), pairs[:, 1].copy()
    sizes = card[pair_i] * card[pair_j]
    pair_offset = int(card.sum()) + np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    dims = int(min(int(card.sum()) + int(sizes.sum()), MAX_WEIGHTS))

    fold = rng.permutation(2 * n) % 2
    predicted = np.zeros(2 * n)
    for f in (0, 1):
        train, test = fold != f, fold == f
        weights = _kernels.logistic_fit(
            rows[train],
            labels[train],
            card,
            main_offset,
            pair_i,
            pair_j,
            pair_offset,
            dims,
            EPOCHS,
            LEARNING_RATE,
            L2,
            seed + f,
        )
        with kernel_threads(int(test.sum()) * (card.size + pair_i.size)):  # features per row
            predicted[test] = _kernels.logistic_predict(
                rows[test], weights, card, main_offset, pair_i, pair_j, pair_offset, dims
            )
    c = 0.5
    pmse = float(np.mean((predicted - c) ** 2))
    return PropensityScore(
        pmse=pmse,
        pmse_normalised=pmse / (c * (1 - c)),
        auc=_auc(predicted, labels),
        records_per_table=n,
        model="logistic regression, one-hot main effects and pairs, 2-fold cross-fitted",
    )


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann–Whitney AUC with ties counted half."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(scores.size, dtype=np.float64)
    sorted_scores = scores[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    positives = labels == 1
    n_pos = int(positives.sum())
    n_neg = labels.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return 0.5
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))
