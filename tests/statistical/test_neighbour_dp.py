"""Neighbour test of the whole DP-marginals step: does the noise deliver the privacy
the accounting claims?

Domain: 3 columns × 2 values, R = 2, 200 records; D′ is D without record 0, whose 3
attributes make 3 single counts and 3 pair counts. Every count is large, so all are
always released and thresholds play no part; the DP percentile is off (Δ_k is the
public bound 3 = C(3,1) = C(3,2)), so the noisy counts are the whole privacy loss
(the noisy record count is ignored: ignoring an output is post-processing).

The accounting gives the counts ρ_M-zCDP through discrete Gaussian noise whose mean
shift between D and D′, seen through the sum T of the 6 affected counts, is
μ = √(2ρ_M) noise standard deviations. The privacy curve of such a mechanism is that
of μ-Gaussian DP (Dong, Roth & Su 2019): for every ε′,
    P_D(S) ≤ e^ε′·P_D′(S) + δ(ε′),  δ(ε′) = Φ(−ε′/μ + μ/2) − e^ε′·Φ(−ε′/μ − μ/2),
which is tighter than the (ε, δ) the release states (that one comes from the zCDP
conversion), so a mechanism with less noise than it claims breaks it at moderate
ε′. We check it for the events S = {T ≥ t} — the most powerful events for a mean
shift (Neyman–Pearson) — in both directions, over 100,000 runs on each dataset.

How the 100,000 runs are made cheaply: the mechanism is fitted once on D and once on
D′, with a noise source that answers each of its requests (exact counts, noise scale)
with 100,000 independent noisy copies drawn in one vectorised call of the project's
seeded discrete Gaussian sampler, hands the mechanism the first copy and keeps the
rest. Every run then is exactly what a fresh fit would have produced (the exact counts
are deterministic here: no record holds more combinations than Δ_k), and each run's
release decision applies the thresholds the release states to that run's counts. The
statistic is taken before normalisation, which is post-processing and cannot weaken
the guarantee; the test checks that the counts the mechanism asked to protect are the
exact counts of the candidates, so the runs are tied to the right combinations.

Sampling tolerance: for each (ε′, t) the estimate of P_D(S) − e^ε′·P_D′(S) has
standard error √(p(1−p)/n + e^{2ε′}·p′(1−p′)/n); we allow 4.5 standard errors
(about 400 comparisons; 4.5 SE is a family-wise false alarm of ~0.3%), plus 0.005
for the discreteness of the discrete Gaussian at this scale. With σ planted 15% too
small, μ grows by 1/0.85 and the curve is broken by ≈ 0.10 at ε′ ≈ 1.3, over 20
standard errors: the same harness must fail (the second test plants it in the noise
source; planting it in the accounting's noise scale fails the first test as well).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist

import numpy as np
import polars as pl
import pytest

from dpshowcase.data.prepare import prepare
from dpshowcase.privacy.accounting import plan_budget
from dpshowcase.privacy.marginals import DPMarginals
from dpshowcase.privacy.noise import SeededNoise

RUNS = 100_000
NORMAL = NormalDist()
EPSILON, DELTA = 6.0, 1e-3  # chosen so that μ ≈ 1.5, where the test has most power


@dataclass(frozen=True)
class _Request:
    """One call of the mechanism to its noise source, and every run's answer."""

    counts: np.ndarray  # the exact counts the mechanism asked to protect
    noisy: np.ndarray  # (runs, candidates): the noisy counts of every run


class _BulkNoise:
    """Draws every requested noisy count for all runs at once.

    Each discrete Gaussian request is answered for ``runs`` runs in one vectorised call
    of :class:`SeededNoise`; the mechanism gets run 0's counts. ``shrink`` plants a bug:
    every noise scale multiplied by it (1.0: none).
    """

    private = False

    def __init__(self, runs: int, seed: int, shrink: float = 1.0) -> None:
        self._inner = SeededNoise(seed)
        self._runs = runs
        self._shrink = shrink
        self.requests: list[_Request] = []
        self.description = f"{runs:,} runs of {self._inner.description}, scale × {shrink}"

    def add_discrete_gaussian(self, counts: np.ndarray, scale: float) -> np.ndarray:
        runs = np.broadcast_to(counts, (self._runs, counts.size))
        noisy = self._inner.add_discrete_gaussian(runs, scale * self._shrink)
        self.requests.append(_Request(counts=counts.copy(), noisy=noisy))
        return noisy[0]

    def add_discrete_laplace(self, value: int, epsilon: float) -> int:
        return self._inner.add_discrete_laplace(value, epsilon)

    def select_percentile(self, values, alpha, epsilon, upper_bound):  # pragma: no cover
        return self._inner.select_percentile(values, alpha, epsilon, upper_bound)


def _datasets():
    rng = np.random.default_rng(20261125)
    frame = pl.DataFrame({c: rng.choice(["a", "b"], 200).tolist() for c in "xyz"})
    full = prepare(frame)
    neighbour = prepare(frame.slice(1))
    removed = [full.attributes.labels[a] for a in full.record(0)]
    return full, neighbour, removed


def _exact_counts(data) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Single and pair counts of ``data``, counted here independently of the mechanism.

    Pairs are the mechanism's length-2 candidates when every attribute is released:
    attributes of different columns, in lexicographic order of their ids.
    """
    n = data.attributes.n_attributes
    held = np.zeros((data.n_records, n), dtype=np.int64)
    for r in range(data.n_records):
        held[r, data.indices[data.indptr[r] : data.indptr[r + 1]]] = 1
    column = data.attributes.attribute_column
    pairs = [(a, b) for a, b in combinations(range(n), 2) if column[a] != column[b]]
    together = held.T @ held
    return held.sum(axis=0), np.array([together[a, b] for a, b in pairs]), pairs


def _affected_sums(data, removed: list[str], noise: _BulkNoise) -> np.ndarray:
    """T of every run: the sum of the noisy counts of every combination inside the
    removed record, checking each run releases them all."""
    protected = DPMarginals(
        epsilon=EPSILON,
        delta=DELTA,
        reporting_length=2,
        percentile_percentage=None,
        noise=noise,
    ).fit(data)
    singles, pair_counts, pairs = _exact_counts(data)
    length_1, length_2 = noise.requests
    np.testing.assert_array_equal(length_1.counts, singles)
    np.testing.assert_array_equal(length_2.counts, pair_counts)
    thresholds = [entry["threshold"] for entry in protected.parameters["lengths"]]
    # every attribute released in every run, so every run has run 0's pair candidates
    assert (length_1.noisy > thresholds[0]).all(), "an attribute was not released"
    ids = [list(data.attributes.labels).index(label) for label in removed]
    inside = [i for i, (a, b) in enumerate(pairs) if a in ids and b in ids]
    assert len(ids) == 3
    assert len(inside) == 3
    affected_pairs = length_2.noisy[:, inside]
    assert (affected_pairs > thresholds[1]).all(), "an affected combination was not released"
    return length_1.noisy[:, ids].sum(axis=1) + affected_pairs.sum(axis=1)


def _gdp_delta(mu: float, eps: float) -> float:
    return NORMAL.cdf(-eps / mu + mu / 2) - math.exp(eps) * NORMAL.cdf(-eps / mu - mu / 2)


def _worst_excess(t_full: np.ndarray, t_neighbour: np.ndarray, mu: float) -> float:
    """Largest violation, in standard errors beyond tolerance, of the claimed curve."""
    n = t_full.size
    grid = np.unique(
        np.quantile(np.concatenate([t_full, t_neighbour]), np.linspace(0.02, 0.98, 25))
    )
    worst = -math.inf
    for eps in np.linspace(0.0, 3.0, 16):
        allowed = _gdp_delta(mu, float(eps))
        for t in grid:
            for a, b in ((t_full >= t, t_neighbour >= t), (t_neighbour <= t, t_full <= t)):
                p, q = a.mean(), b.mean()
                se = math.sqrt(p * (1 - p) / n + math.exp(2 * eps) * q * (1 - q) / n) + 1e-12
                excess = (p - math.exp(eps) * q - allowed - 0.005) / se
                worst = max(worst, excess)
    return worst


@pytest.fixture(scope="module")
def setting():
    full, neighbour, removed = _datasets()
    plan = plan_budget(
        DPMarginals(
            epsilon=EPSILON, delta=DELTA, reporting_length=2, percentile_percentage=None, seed=0
        ).params
    )
    rho_counts = sum(plan.rho_by_length)
    return full, neighbour, removed, math.sqrt(2 * rho_counts)


@pytest.mark.slow
def test_the_mechanism_keeps_its_claimed_privacy_curve(setting):
    full, neighbour, removed, mu = setting
    assert 1.2 < mu < 1.8, "the setting is chosen where the harness has power"
    t_full = _affected_sums(full, removed, _BulkNoise(RUNS, seed=1))
    t_neighbour = _affected_sums(neighbour, removed, _BulkNoise(RUNS, seed=10_000_000))
    assert t_full.size == t_neighbour.size == RUNS
    assert _worst_excess(t_full, t_neighbour, mu) <= 4.5


@pytest.mark.slow
def test_the_same_harness_catches_noise_15_percent_too_small(setting):
    full, neighbour, removed, mu = setting
    t_full = _affected_sums(full, removed, _BulkNoise(RUNS, seed=2, shrink=0.85))
    t_neighbour = _affected_sums(neighbour, removed, _BulkNoise(RUNS, seed=20_000_000, shrink=0.85))
    assert _worst_excess(t_full, t_neighbour, mu) > 4.5
