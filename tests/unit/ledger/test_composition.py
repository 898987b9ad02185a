"""Composition of a lineage's releases in zCDP, against closed forms."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from dpshowcase.ledger.composition import ReleaseLoss, cumulative_loss
from dpshowcase.privacy.accounting import DpParameters, plan_budget, zcdp_epsilon

PHI = NormalDist().cdf


def gaussian_delta(mu: float, epsilon: float) -> float:
    """Exact δ(ε) of a Gaussian mechanism with μ = Δ/σ (Balle–Wang 2018, Thm. 8)."""
    return PHI(-epsilon / mu + mu / 2) - math.exp(epsilon) * PHI(-epsilon / mu - mu / 2)


def gaussian_epsilon(mu: float, delta: float) -> float:
    """Exact ε of a Gaussian mechanism at δ (bisection on the closed form)."""
    low, high = 0.0, 100.0
    for _ in range(200):
        middle = (low + high) / 2
        if gaussian_delta(mu, middle) > delta:
            low = middle
        else:
            high = middle
    return high


def gaussian_loss(sigma: float, delta: float) -> ReleaseLoss:
    """A release that is one Gaussian mechanism of L2 sensitivity 1 (ρ = 1/(2σ²))."""
    rho = 1 / (2 * sigma**2)
    return ReleaseLoss(
        rho=rho, delta_conversion=delta, delta_outside=0.0, epsilon=zcdp_epsilon(rho, delta)
    )


@pytest.mark.parametrize(("count", "sigma"), [(2, 3.0), (4, 5.0), (10, 8.0)])
def test_rho_adds_and_epsilon_lies_between_the_closed_forms(count, sigma):
    """n Gaussian releases with σ are exactly one Gaussian with μ = √n/σ, i.e. ρ = n/(2σ²).

    The cumulative ε can be no smaller than that Gaussian's exact ε (the true privacy
    profile), and no larger than Bun–Steinke's closed form ρ + 2√(ρ ln(1/δ)).
    """
    delta = 1e-6
    losses = [gaussian_loss(sigma, delta / count) for _ in range(count)]
    total = cumulative_loss(losses)
    rho = count / (2 * sigma**2)
    assert total.rho == pytest.approx(rho, rel=1e-12)
    assert total.delta == pytest.approx(delta, rel=1e-12)
    exact = gaussian_epsilon(math.sqrt(2 * rho), delta)
    bun_steinke = rho + 2 * math.sqrt(rho * math.log(1 / delta))
    assert exact <= total.epsilon <= bun_steinke
    # and it is the tight conversion of the summed ρ, not the (larger) sum of the ε's
    assert total.epsilon == zcdp_epsilon(rho, delta)
    assert total.epsilon < sum(loss.epsilon for loss in losses)


def test_one_release_never_shows_more_than_its_own_epsilon():
    plan = plan_budget(DpParameters(epsilon=2.0, delta=1e-6, reporting_length=2))
    loss = ReleaseLoss.from_plan(plan)
    total = cumulative_loss([loss])
    assert total.delta == pytest.approx(plan.delta)
    assert total.epsilon <= plan.epsilon
    # the record count's pure ε_N is in ρ as ε_N²/2 (Bun–Steinke 2016, Prop. 1.4)
    assert plan.epsilon_record_count > 0
    assert loss.rho == pytest.approx(plan.rho + plan.epsilon_record_count**2 / 2, rel=1e-9)


def test_mixed_delta_sums_delta_and_converts_the_summed_rho():
    """Rule for mixed δ: cumulative δ = Σδ_i; ε = CKS(Σρ, Σδ_i − Σδ_t,i)."""
    plans = [
        plan_budget(DpParameters(epsilon=1.0, delta=1e-7, reporting_length=2)),
        plan_budget(DpParameters(epsilon=3.0, delta=1e-5, reporting_length=2)),
    ]
    losses = [ReleaseLoss.from_plan(p) for p in plans]
    total = cumulative_loss(losses)
    assert total.delta == pytest.approx(1e-7 + 1e-5, rel=1e-12)
    rho = sum(p.rho + p.epsilon_record_count**2 / 2 for p in plans)  # no other pure part
    conversion = sum(p.delta_conversion for p in plans)
    assert total.epsilon == pytest.approx(min(zcdp_epsilon(rho, conversion), 4.0), rel=1e-12)
    assert total.epsilon < 4.0  # here zCDP composition beats adding the ε's


def test_a_cap_delta_below_the_threshold_deltas_gives_no_finite_epsilon():
    loss = ReleaseLoss(rho=0.1, delta_conversion=5e-7, delta_outside=5e-7, epsilon=2.0)
    assert math.isinf(cumulative_loss([loss, loss], delta=1e-6).epsilon)
    assert math.isfinite(cumulative_loss([loss, loss], delta=1e-5).epsilon)


def test_no_release_costs_nothing():
    total = cumulative_loss([])
    assert (total.releases, total.rho, total.epsilon) == (0, 0.0, 0.0)


def test_a_release_with_much_delta_and_little_rho_never_lowers_the_stated_epsilon():
    """At the summed δ, adding (ρ ≈ 0, δ = 1e-3) would lower ε from ≈ 2.8 to ≈ 2; the
    stated ε stays the largest of the prefixes', so it cannot slip under a cap."""
    plan = plan_budget(DpParameters(epsilon=2.0, delta=1e-6, reporting_length=2))
    loss = ReleaseLoss.from_plan(plan)
    leaky = ReleaseLoss(rho=1e-9, delta_conversion=1e-3, delta_outside=0.0, epsilon=1e-3)
    before = cumulative_loss([loss, loss])
    after = cumulative_loss([loss, loss, leaky])
    assert zcdp_epsilon(after.rho, after.delta - after.delta_outside) < before.epsilon
    assert after.epsilon == before.epsilon
    assert after.delta == pytest.approx(before.delta + 1e-3)
