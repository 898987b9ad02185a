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

Sampling tolerance: for each (ε′, t) the estimate of P_D(S) − e^ε′·P_D′(S) has
standard error √(p(1−p)/n + e^{2ε′}·p′(1−p′)/n); we allow 4.5 standard errors
(about 400 comparisons; 4.5 SE is a family-wise false alarm of ~0.3%), plus 0.005
for the discreteness of the discrete Gaussian at this scale. With σ planted 15% too
small, μ grows by 1/0.85 and the curve is broken by ≈ 0.10 at ε′ ≈ 1.3, over 20
standard errors: the same harness must fail.
"""

from __future__ import annotations

import math
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


class _ShrunkNoise:
    """A planted bug: every noise scale 15% below what the mechanism asks for."""

    private = False
    description = "planted: noise scale × 0.85"

    def __init__(self, seed: int) -> None:
        self._inner = SeededNoise(seed)

    def add_discrete_gaussian(self, counts: np.ndarray, scale: float) -> np.ndarray:
        return self._inner.add_discrete_gaussian(counts, scale * 0.85)

    def add_discrete_laplace(self, value: int, epsilon: float) -> int:
        return self._inner.add_discrete_laplace(value, epsilon)

    def select_percentile(self, values, alpha, epsilon, upper_bound):  # pragma: no cover
        return self._inner.select_percentile(values, alpha, epsilon, upper_bound)


def _datasets():
    rng = np.random.default_rng(20261125)
    frame = pl.DataFrame({c: rng.choice(["a", "b"], 200).tolist() for c in "xyz"})
    full = prepare(frame)
    neighbour = prepare(frame.slice(1))
    return full, neighbour, full.record(0).tolist()


def _affected_sums(data, attributes: list[int], noise_factory, runs: int, seed: int) -> np.ndarray:
    """T = sum of the released counts of every combination inside the removed record."""
    labels = {data.attributes.labels[a] for a in attributes}
    out = np.empty(runs, dtype=np.int64)
    for i in range(runs):
        mechanism = DPMarginals(
            epsilon=EPSILON,
            delta=DELTA,
            reporting_length=2,
            percentile_percentage=None,
            noise=noise_factory(seed + i),
        )
        protected = mechanism.fit(data)
        index = protected.attributes
        inside = np.array([label in labels for label in index.labels] + [True])
        combos = protected.counts.combinations
        mask = inside[np.where(combos >= 0, combos, index.n_attributes)].all(axis=1)
        if mask.sum() != 6:
            raise AssertionError("an affected combination was not released")
        out[i] = protected.counts.counts[mask].sum()
    return out


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
    t_full = _affected_sums(full, removed, SeededNoise, RUNS, seed=1)
    t_neighbour = _affected_sums(neighbour, removed, SeededNoise, RUNS, seed=10_000_000)
    assert _worst_excess(t_full, t_neighbour, mu) <= 4.5


@pytest.mark.slow
def test_the_same_harness_catches_noise_15_percent_too_small(setting):
    full, neighbour, removed, mu = setting
    t_full = _affected_sums(full, removed, _ShrunkNoise, RUNS, seed=2)
    t_neighbour = _affected_sums(neighbour, removed, _ShrunkNoise, RUNS, seed=20_000_000)
    assert _worst_excess(t_full, t_neighbour, mu) > 4.5
