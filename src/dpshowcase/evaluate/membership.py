"""A membership-inference audit, compared with what the stated ε allows.

The attack: an adversary holds a candidate record and the synthetic data, and guesses
"the candidate was in the data" when a synthetic record lies within ``t`` record columns
of it (distance to the closest synthetic record ≤ t). Run on *members* (records that
were in the data the release was made from) and *non-members* (records from the same
population that were not), each threshold ``t`` gives a true-positive rate (members
flagged) and a false-positive rate (non-members flagged).

What DP promises. For any test an adversary can run on an (ε, δ)-DP output,
``TPR ≤ e^ε · FPR + δ`` and ``1 − FPR ≤ e^ε · (1 − TPR) + δ`` (Kairouz, Oh &
Viswanath 2015; the hypothesis-testing view of DP). Each threshold therefore gives an
empirical lower bound on ε:

    ε̂(t) = max( ln((TPR − δ) / FPR),  ln((1 − FPR − δ) / (1 − TPR)) )

computed, as in DP auditing (Jagielski, Ullman & Oprea 2020), with one-sided
Clopper–Pearson bounds read pessimistically (the lower bound of TPR over the upper
bound of FPR, and so on), Bonferroni-corrected over the thresholds and the two
inequalities, so the largest ε̂ is a valid lower bound at the stated confidence:
``epsilon_lower_bound``. If it exceeds the stated ε, the release (or its accounting) is broken; if
it is far below, this attack is simply weak — an audit can refute a guarantee, never
prove one. For a release without ε (k-anonymity) the rates are reported alone.

Members and non-members. The records of the release itself have no non-members, so
the audit needs either records of the same population held out from the release (a
*holdout* file), or a fresh release made, with the same parameters, from a random half
of a sample of the sensitive data (members) with the other half held out
(:func:`rerelease_audit_data`). The second audits the mechanism, not the particular
bundle; DP is a property of the mechanism, so that is what the bound speaks about.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from dpshowcase.data.encode import encode
from dpshowcase.evaluate.disclosure import distinct_rows, nearest_distances
from dpshowcase.privacy.accounting import DpParameters
from dpshowcase.privacy.marginals import DPMarginals
from dpshowcase.synthesize.aggregate_seeded import AggregateSeededSynthesizer

__all__ = ["MembershipAudit", "clopper_pearson", "membership_audit"]

CONFIDENCE = 0.95
"""Confidence of the empirical ε lower bound (each rate's bound is one-sided)."""
MAX_CANDIDATES = 5_000
"""Members and non-members attacked (each)."""


@dataclass(frozen=True)
class MembershipAudit:
    """The outcome of the distance-to-closest-record membership attack."""

    members: int
    non_members: int
    source: str
    """Where the members and non-members came from ("holdout" or "re-release")."""
    thresholds: list[int]
    tpr: list[float]
    fpr: list[float]
    advantage: float
    """max over thresholds of TPR − FPR (0: no better than guessing)."""
    epsilon: float | None
    """The stated ε, or None when the release states none."""
    delta: float
    epsilon_lower_bound: float
    """Largest ε̂ over thresholds at the stated confidence (0 when no evidence)."""
    confidence: float
    consistent: bool | None
    """ε̂ ≤ ε (None without a stated ε)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for metrics.json."""
        return asdict(self)


def membership_audit(
    members: np.ndarray,
    non_members: np.ndarray,
    synthetic: np.ndarray,
    *,
    epsilon: float | None,
    delta: float = 0.0,
    source: str = "holdout",
    max_candidates: int = MAX_CANDIDATES,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> MembershipAudit:
    """Attack with the distance to the closest synthetic record (module docstring).

    All three tables are record codes of shape (record columns, records) in one space.
    """
    rng = np.random.default_rng(seed)
    order = np.argsort(-synthetic.max(axis=1, initial=0), kind="stable")
    members, non_members, synthetic = members[order], non_members[order], synthetic[order]
    refs, _, _ = distinct_rows(synthetic)
    scores = []
    for table in (members, non_members):
        pick = (
            np.arange(table.shape[1])
            if table.shape[1] <= max_candidates
            else np.sort(rng.choice(table.shape[1], max_candidates, replace=False))
        )
        scores.append(nearest_distances(refs, table[:, pick]))
    d_in, d_out = scores
    n_in, n_out = d_in.size, d_out.size
    top = int(max(d_in.max(initial=0), d_out.max(initial=0)))
    thresholds = list(range(top + 1))
    hits_in = np.cumsum(np.bincount(d_in, minlength=top + 1))
    hits_out = np.cumsum(np.bincount(d_out, minlength=top + 1))
    tpr = (hits_in / n_in).tolist() if n_in else [0.0] * len(thresholds)
    fpr = (hits_out / n_out).tolist() if n_out else [0.0] * len(thresholds)
    # every threshold tests two inequalities with two one-sided bounds each: the union
    # bound (Bonferroni) keeps the largest ε̂ valid at the stated confidence
    alpha = (1.0 - confidence) / (4 * len(thresholds))
    bound = 0.0
    for t in thresholds:
        if not (n_in and n_out):
            break
        tpr_lo, _ = clopper_pearson(int(hits_in[t]), n_in, alpha)
        _, fpr_hi = clopper_pearson(int(hits_out[t]), n_out, alpha)
        # TPR ≤ e^ε·FPR + δ  and  1 − FPR ≤ e^ε·(1 − TPR) + δ, each read pessimistically
        bound = max(bound, _epsilon_hat(tpr_lo, fpr_hi, delta))
        bound = max(bound, _epsilon_hat(1.0 - fpr_hi, 1.0 - tpr_lo, delta))
    advantage = max((a - b for a, b in zip(tpr, fpr, strict=True)), default=0.0)
    return MembershipAudit(
        members=n_in,
        non_members=n_out,
        source=source,
        thresholds=thresholds,
        tpr=tpr,
        fpr=fpr,
        advantage=float(max(advantage, 0.0)),
        epsilon=epsilon,
        delta=delta,
        epsilon_lower_bound=bound,
        confidence=confidence,
        consistent=None if epsilon is None else bound <= epsilon,
    )


def _epsilon_hat(numerator: float, denominator: float, delta: float) -> float:
    top = numerator - delta
    if top <= 0.0 or denominator <= 0.0:
        return 0.0
    return max(0.0, math.log(top / denominator))


def clopper_pearson(k: int, n: int, alpha: float) -> tuple[float, float]:
    """One-sided (1 − alpha) Clopper–Pearson bounds (lower, upper) of a binomial rate.

    The lower bound is the p with P(X ≥ k | p) = alpha, the upper one the p with
    P(X ≤ k | p) = alpha; found by bisection on the exact binomial tail.
    """
    if n <= 0:
        return 0.0, 1.0
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))])
    i = np.arange(n + 1)
    log_choose = log_fact[n] - log_fact[i] - log_fact[n - i]

    def cdf(p: float, upto: int) -> float:  # P(X ≤ upto)
        if upto < 0:
            return 0.0
        if p <= 0.0:
            return 1.0
        if p >= 1.0:
            return 1.0 if upto >= n else 0.0
        j = i[: upto + 1]
        terms = log_choose[: upto + 1] + j * math.log(p) + (n - j) * math.log1p(-p)
        top = terms.max()
        return float(min(1.0, math.exp(top) * np.exp(terms - top).sum()))

    def solve(f: Any) -> float:  # f increasing in p, root in [0, 1]
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2.0
            if f(mid) < 0.0:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2.0

    lower = 0.0 if k == 0 else solve(lambda p: (1.0 - cdf(p, k - 1)) - alpha)
    upper = 1.0 if k == n else solve(lambda p: alpha - cdf(p, k))
    return lower, upper


def rerelease_audit_data(
    frame: Any,
    schema: Any,
    parameters: dict[str, Any],
    *,
    records: int = 2 * MAX_CANDIDATES,
    seed: int = 0,
) -> tuple[Any, Any, Any]:
    """Members, non-members and a fresh synthetic table for the audit of a DP release.

    Draws ``records`` rows of the sensitive ``frame`` (a polars DataFrame), releases a
    random half with the DP parameters of ``parameters`` (parameters.json) and returns
    (members, non-members, synthetic) as DataFrames. The fresh release's noise comes
    from a seeded generator of the same distributions (an audit needs draws of the
    mechanism, not secrecy), so the audit is reproducible.
    """
    rng = np.random.default_rng(seed)
    n = min(frame.height, records)
    pick = rng.permutation(frame.height)[:n]
    half = n // 2
    members = frame[pick[:half].tolist()]
    non_members = frame[pick[half:].tolist()]
    keys = ("epsilon", "delta", "reporting_length", "percentile_percentage")
    dp = DpParameters(**{k: parameters[k] for k in keys if parameters.get(k) is not None})
    sensitive = encode(members, schema, allow_identifiers=True)
    aggregates = DPMarginals(seed=seed, **{k: getattr(dp, k) for k in keys}).fit(sensitive)
    synthetic = AggregateSeededSynthesizer(seed=seed).fit(aggregates).sample()
    return members, non_members, synthetic
