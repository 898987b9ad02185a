"""Tests of the DP-marginals privacy accounting against closed forms and OpenDP."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import opendp.prelude as dp
import pytest
from scipy import stats

from dpshowcase.errors import ParameterError
from dpshowcase.privacy.accounting import (
    DELTA_THRESHOLD_SHARE,
    BudgetPlan,
    DpParameters,
    infer_delta,
    plan_budget,
    reference_rho,
    zcdp_delta,
    zcdp_epsilon,
    zcdp_rho,
)
from dpshowcase.privacy.noise import discrete_gaussian_pmf

dp.enable_features("contrib")

N_REFERENCE = 10_000
DELTA_REFERENCE = 1.0 / (N_REFERENCE * math.log(N_REFERENCE))


def opendp_epsilon(rho: float, delta: float) -> float:
    """ε of ρ-zCDP at δ as OpenDP computes it (a Gaussian with ρ = 1/(2·scale²))."""
    gaussian = dp.m.make_gaussian(
        dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float), scale=1.0
    )
    # scale 1 and d_in = √(2ρ) give ρ = d_in²/2 exactly up to OpenDP's upward rounding.
    profile = dp.c.make_zCDP_to_approxDP(gaussian).map(math.sqrt(2.0 * rho))
    return profile.epsilon(delta)


# ---------------------------------------------------------------- conversion -------


@pytest.mark.parametrize(("rho", "delta", "expected"), [(2.0, 1e-6, 11.6886), (0.5, 1e-6, 5.2215)])
def test_known_epsilons(rho: float, delta: float, expected: float) -> None:
    assert zcdp_epsilon(rho, delta) == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("rho", [0.01, 0.1, 0.372, 1.0, 5.0, 50.0])
@pytest.mark.parametrize("delta", [1e-10, 1e-6, 1e-3, 0.1])
def test_epsilon_agrees_with_opendp(rho: float, delta: float) -> None:
    ours, theirs = zcdp_epsilon(rho, delta), opendp_epsilon(rho, delta)
    # Both bisect the same CKS bound; they differ only in float rounding (~1e-13).
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("rho", "epsilon"), [(0.05, 0.5), (0.372, 3.98), (2.0, 11.0), (8, 3)])
def test_delta_is_the_minimum_over_alpha(rho: float, epsilon: float) -> None:
    alphas = np.concatenate([1 + np.logspace(-8, 0, 4000), np.linspace(2, 2000, 40000)])
    log_bounds = (alphas - 1) * (alphas * rho - epsilon) - np.log(alphas - 1)
    log_bounds += alphas * np.log1p(-1 / alphas)
    grid_min = min(1.0, math.exp(min(0.0, float(log_bounds.min()))))
    ours = zcdp_delta(rho, epsilon)
    # Ours is the exact minimiser up to float error; a grid can only do worse.
    assert ours <= grid_min * (1 + 1e-9)
    assert ours >= grid_min * (1 - 1e-3)


def test_reference_and_tight_rho_at_ten_thousand_records() -> None:
    epsilon_m = 4.0 * (1 - 0.005)
    assert epsilon_m == pytest.approx(3.98)
    loose = reference_rho(epsilon_m, DELTA_REFERENCE)
    tight_full_delta = zcdp_rho(epsilon_m, DELTA_REFERENCE)
    assert loose == pytest.approx(0.282, abs=1e-3)
    assert tight_full_delta == pytest.approx(0.372, abs=1e-3)
    # The reference's formula is Bun–Steinke's conversion at δ/2 (it keeps δ/2 for ρ_1) …
    bun_steinke_eps = loose + 2 * math.sqrt(loose * math.log(2 / DELTA_REFERENCE))
    assert bun_steinke_eps == pytest.approx(epsilon_m, rel=1e-12)
    # … so the like-for-like tight ρ converts at δ/2 too; that is what a plan spends.
    # (the reference's 0.5% share for the record count, given explicitly)
    reference_share = DpParameters(epsilon=4.0, number_of_records_epsilon_proportion=0.005)
    plan = plan_budget(reference_share, N_REFERENCE)
    assert plan.delta == pytest.approx(DELTA_REFERENCE, rel=1e-15)
    assert plan.rho == pytest.approx(zcdp_rho(epsilon_m, DELTA_REFERENCE / 2), rel=1e-15)
    assert plan.rho == pytest.approx(0.3513, abs=1e-4)
    assert plan.rho_reference == pytest.approx(loose, rel=1e-15)
    assert plan.rho / loose > 1.24  # ≈ 25% more zCDP budget for the same (ε, δ)


@pytest.mark.parametrize("epsilon", [0.05, 0.5, 1.0, 3.98, 10.0, 30.0])
@pytest.mark.parametrize("delta", [1e-12, 1e-6, 5.43e-6, 1e-3, 0.2])
def test_rho_is_the_largest_feasible(epsilon: float, delta: float) -> None:
    rho = zcdp_rho(epsilon, delta)
    assert zcdp_epsilon(rho, delta) <= epsilon  # rounding toward more privacy
    assert zcdp_delta(rho, epsilon) <= delta
    # and tight: 1e-6 more ρ is already over budget (bisection stops at 1e-15 relative).
    assert zcdp_epsilon(rho * (1 + 1e-6), delta) > epsilon
    assert opendp_epsilon(rho, delta) <= epsilon * (1 + 1e-12)


def test_epsilon_and_rho_are_inverse() -> None:
    for rho in (0.01, 0.3, 2.0):
        epsilon = zcdp_epsilon(rho, 1e-6)
        assert zcdp_rho(epsilon, 1e-6) == pytest.approx(rho, rel=1e-9)


def test_conversion_rejects_bad_arguments() -> None:
    with pytest.raises(ParameterError, match="rho must be a positive finite number"):
        zcdp_epsilon(0.0, 1e-6)
    with pytest.raises(ParameterError, match="delta must be strictly between 0 and 1"):
        zcdp_epsilon(1.0, 1.0)
    with pytest.raises(ParameterError, match="epsilon must be a positive finite number"):
        zcdp_rho(-1.0, 1e-6)
    with pytest.raises(ParameterError, match="epsilon must be a finite number"):
        zcdp_delta(1.0, math.nan)


# ---------------------------------------------------------------- delta ------------


def test_infer_delta() -> None:
    assert infer_delta(N_REFERENCE) == pytest.approx(1.085736e-5, rel=1e-6)
    assert infer_delta(3) == pytest.approx(1 / (3 * math.log(3)))
    assert infer_delta(3) < 1 / 3


@pytest.mark.parametrize("count", [-5, 0, 1, 2])
def test_infer_delta_refuses_tiny_counts(count: int) -> None:
    with pytest.raises(ParameterError, match="Cannot infer delta from a record count"):
        infer_delta(count)


def test_plan_needs_a_count_to_infer_delta() -> None:
    with pytest.raises(ParameterError, match="protected record count is needed"):
        plan_budget(DpParameters(epsilon=1.0))
    plan = plan_budget(DpParameters(epsilon=1.0, delta=1e-7))
    assert plan.delta == 1e-7
    assert not plan.delta_inferred
    assert plan.record_count is None


def test_delta_split_between_conversion_and_threshold() -> None:
    plan = plan_budget(DpParameters(epsilon=2.0, delta=1e-6))
    assert DELTA_THRESHOLD_SHARE == 0.5
    assert plan.delta_threshold == pytest.approx(0.5e-6)
    assert plan.delta_conversion + plan.delta_threshold == pytest.approx(plan.delta, rel=1e-15)
    assert zcdp_delta(plan.rho_spent, plan.epsilon_marginals) <= plan.delta_conversion


def test_public_record_count() -> None:
    params = DpParameters(epsilon=4.0, record_count_public=N_REFERENCE)
    assert params.record_count_epsilon == 0.0
    plan = plan_budget(params)
    assert plan.epsilon_record_count == 0.0
    assert plan.epsilon_marginals == 4.0
    assert plan.record_count == N_REFERENCE
    assert plan.record_count_public
    assert plan.delta == pytest.approx(DELTA_REFERENCE)
    assert "declared public" in plan.guarantee
    with pytest.raises(ParameterError, match="differs from the declared public count"):
        plan_budget(params, N_REFERENCE + 1)


# ---------------------------------------------------------------- split -------------


@pytest.mark.parametrize(
    ("split", "expected_proportions"),
    [
        ("even", (1.0, 1.0, 1.0, 1.0)),
        ("favor-long", (1.0, 1 / 2, 1 / 3, 1 / 4)),
        ((2.0, 1.0, 0.5, 0.25), (2.0, 1.0, 0.5, 0.25)),
    ],
)
@pytest.mark.parametrize("percentile", [99.0, None])
def test_sigma_split(
    split: object, expected_proportions: tuple[float, ...], percentile: float | None
) -> None:
    params = DpParameters(
        epsilon=3.0,
        delta=1e-6,
        reporting_length=4,
        sigma_proportions=split,  # type: ignore[arg-type]
        percentile_percentage=percentile,
    )
    plan = plan_budget(params)
    q_p = 0.1 if percentile is not None else 0.0
    assert plan.percentile_share == q_p
    assert plan.sigma_proportions == pytest.approx(expected_proportions)
    inverse_squares = sum(1 / s**2 for s in plan.sigmas)
    assert inverse_squares == pytest.approx(2 * plan.rho * (1 - q_p), rel=1e-9)
    ratios = [s / plan.sigmas[0] for s in plan.sigmas]
    assert ratios == pytest.approx([p / expected_proportions[0] for p in expected_proportions])
    assert plan.rho_by_length == pytest.approx([1 / (2 * s**2) for s in plan.sigmas])
    expected_eps_q = math.sqrt(2 * plan.rho * q_p / 4)
    assert plan.epsilon_percentile == pytest.approx(expected_eps_q, rel=1e-9)
    # Never overspend: R·ε_Q²/2 + Σ ρ_k ≤ ρ, within 1e-9 of it.
    assert plan.rho_spent <= plan.rho
    assert plan.rho_spent == pytest.approx(plan.rho, rel=1e-9)


def test_record_count_share() -> None:
    plan = plan_budget(DpParameters(epsilon=4.0, number_of_records_epsilon_proportion=0.25), 100)
    assert plan.epsilon_record_count == pytest.approx(1.0)
    assert plan.epsilon_marginals == pytest.approx(3.0)
    assert plan.epsilon_record_count + plan.epsilon_marginals == pytest.approx(4.0, rel=1e-15)


def test_reporting_length_one_has_no_longer_thresholds() -> None:
    plan = plan_budget(DpParameters(epsilon=1.0, delta=1e-6, reporting_length=1))
    assert plan.adaptive_factors == ()
    assert len(plan.sigmas) == 1
    assert plan.thresholds_for([3])[0] > 1


# ---------------------------------------------------------------- thresholds --------


@pytest.mark.parametrize("sensitivity", [1, 4, 20, 150])
@pytest.mark.parametrize("epsilon", [0.5, 4.0])
def test_single_attribute_threshold(sensitivity: int, epsilon: float) -> None:
    plan = plan_budget(DpParameters(epsilon=epsilon), N_REFERENCE)
    scale = plan.sigmas[0] * math.sqrt(sensitivity)
    assert plan.noise_scale(1, sensitivity) == pytest.approx(scale)
    continuous = scale * stats.norm.ppf((1 - plan.delta / 2) ** (1 / sensitivity))
    threshold = plan.threshold(1, sensitivity)
    # Reference formula 1 + σ₁√Δ₁Φ⁻¹((1−δ/2)^(1/Δ₁)), rounded up for discrete noise.
    assert threshold == 1 + math.ceil(continuous)
    # The guarantee itself: a record's ≤ Δ₁ unique attributes (true count 1) all stay
    # below the threshold with probability ≥ 1 − δ/2 under the exact discrete pmf.
    support, pmf = discrete_gaussian_pmf(scale)
    survive_one = pmf[support > threshold - 1].sum()
    survive_any = 1 - (1 - survive_one) ** sensitivity
    assert survive_any <= plan.delta_threshold


@pytest.mark.parametrize("scale", [0.5, 1.0, 3.7, 10.0, 40.0])
def test_discrete_tail_is_bounded_by_shifted_continuous_tail(scale: float) -> None:
    # CKS 2020's tail bound, which justifies the ceiling in ρ₁: P[Z ≥ m] ≤ P[N ≥ m − 1].
    support, pmf = discrete_gaussian_pmf(scale)
    for m in range(1, int(8 * scale) + 3):
        assert pmf[support >= m].sum() <= stats.norm.sf(m - 1, scale=scale) * (1 + 1e-9)


def test_adaptive_thresholds() -> None:
    params = DpParameters(
        epsilon=2.0, delta=1e-6, reporting_length=4, adaptive_factors=(0.1, 0.5, 1.0)
    )
    plan = plan_budget(params)
    sensitivities = [5, 10, 10, 30]
    thresholds = plan.thresholds_for(sensitivities)
    for k, eta in zip((2, 3, 4), (0.1, 0.5, 1.0), strict=True):
        scale = plan.sigmas[k - 1] * math.sqrt(sensitivities[k - 1])
        assert thresholds[k - 1] == pytest.approx(scale * stats.norm.ppf(1 - eta / 2))
    assert thresholds[3] == 0.0


def test_default_adaptive_factors_are_balanced() -> None:
    plan = plan_budget(DpParameters(epsilon=2.0, delta=1e-6, reporting_length=4))
    assert plan.threshold_mode == "adaptive"
    assert plan.adaptive_factors == (0.55, 1.0, 1.0)
    single = DpParameters(epsilon=2.0, delta=1e-6, reporting_length=3, adaptive_factors=0.2)
    assert single.adaptive_factor_values == (0.2, 0.2)


def test_fixed_thresholds() -> None:
    params = DpParameters(epsilon=2.0, delta=1e-6, reporting_length=3, thresholds=[10, 20.5])
    assert params.thresholds == (10.0, 20.5)
    plan = plan_budget(params)
    assert plan.threshold_mode == "fixed"
    assert plan.thresholds_for([4, 6, 8])[1:] == (10.0, 20.5)
    assert plan.threshold(1, 4) > 1  # ρ₁ stays fixed by the guarantee


def test_threshold_arguments_are_checked() -> None:
    plan = plan_budget(DpParameters(epsilon=2.0, delta=1e-6))
    with pytest.raises(ParameterError, match="length must be between 1 and 3"):
        plan.threshold(4, 2)
    with pytest.raises(ParameterError, match="allowed sensitivity must be an integer ≥ 1"):
        plan.threshold(2, 0)
    with pytest.raises(ParameterError, match="one sensitivity per length"):
        plan.thresholds_for([1, 2])


# ---------------------------------------------------------------- statement ---------


def test_guarantee_and_dict() -> None:
    plan = plan_budget(DpParameters(epsilon=4.0), N_REFERENCE)
    sentence = plan.guarantee
    assert sentence.startswith("(ε=4, δ=1.1e-05)-differential privacy for each record")
    assert "ρ=0.339 zCDP" in sentence
    assert "0.1-DP for the record count" in sentence
    assert sentence.endswith(").")
    assert ". " not in sentence  # one sentence
    subject = plan_budget(DpParameters(epsilon=4.0, privacy_unit="subject"), N_REFERENCE)
    assert "for each subject" in subject.guarantee

    data = plan.to_dict([10, 45, 120])
    json.dumps(data)  # JSON-ready
    assert data["guarantee"] == sentence
    assert data["rho"] == plan.rho
    assert [entry["sigma"] for entry in data["lengths"]] == list(plan.sigmas)
    assert data["lengths"][0]["threshold"] == plan.threshold(1, 10)
    assert data["lengths"][2]["noise_scale"] == pytest.approx(plan.sigmas[2] * math.sqrt(120))
    assert "threshold" not in plan.to_dict()["lengths"][0]


def test_objects_are_frozen() -> None:
    params = DpParameters(epsilon=1.0, sigma_proportions=[1, 2, 3])
    assert params.sigma_proportions == (1.0, 2.0, 3.0)
    hash(params)
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.epsilon = 2.0  # type: ignore[misc]
    plan = plan_budget(params, 1000)
    assert isinstance(plan, BudgetPlan)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.rho = 10.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        DpParameters(1.0)  # type: ignore[misc]  # keyword-only


# ---------------------------------------------------------------- validation --------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epsilon": 0}, "epsilon must be a positive finite number"),
        ({"epsilon": -1.0}, "epsilon must be a positive finite number"),
        ({"epsilon": math.inf}, "epsilon must be a positive finite number"),
        ({"epsilon": math.nan}, "epsilon must be a positive finite number"),
        ({"epsilon": "4"}, "epsilon must be a number"),
        ({"delta": 0.0}, "delta must be strictly between 0 and 1"),
        ({"delta": 1.0}, "delta must be strictly between 0 and 1"),
        ({"delta": 1.5}, "delta must be strictly between 0 and 1"),
        ({"reporting_length": 0}, "reporting_length must be an integer ≥ 1"),
        ({"reporting_length": 2.0}, "reporting_length must be an integer ≥ 1"),
        ({"number_of_records_epsilon_proportion": 1.0}, r"must be in \[0, 1\)"),
        ({"number_of_records_epsilon_proportion": -0.1}, r"must be in \[0, 1\)"),
        ({"number_of_records_epsilon_proportion": 0.0}, "not declared public"),
        ({"percentile_epsilon_proportion": 1.0}, r"must be in \[0, 1\)"),
        ({"percentile_epsilon_proportion": 0.0}, "a DP percentile was asked"),
        ({"percentile_percentage": 0}, r"percentile_percentage must be in \(0, 100\]"),
        ({"percentile_percentage": 100.5}, r"percentile_percentage must be in \(0, 100\]"),
        ({"sigma_proportions": "uneven"}, 'sigma_proportions must be "even"'),
        ({"sigma_proportions": (1.0, 1.0)}, "one number per length"),
        ({"sigma_proportions": (1.0, 0.0, 1.0)}, "must all be > 0"),
        ({"sigma_proportions": (1.0, -1.0, 1.0)}, "must all be > 0"),
        ({"sigma_proportions": (1.0, math.inf, 1.0)}, "only finite numbers"),
        ({"thresholds": "fixed"}, 'thresholds must be "adaptive"'),
        ({"thresholds": (1.0,)}, "one fixed value per length"),
        ({"thresholds": (1.0, -2.0)}, "must all be ≥ 0"),
        ({"adaptive_factors": 0.0}, r"must all be in \(0, 1\]"),
        ({"adaptive_factors": (0.5, 1.5)}, r"must all be in \(0, 1\]"),
        ({"adaptive_factors": (0.5,)}, "one number or 2 numbers"),
        ({"record_count_public": -1}, "record_count_public must be a whole number"),
        ({"privacy_unit": "household"}, 'privacy_unit must be "record" or "subject"'),
    ],
)
def test_invalid_parameters(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"epsilon": 1.0, **kwargs}
    with pytest.raises(ParameterError, match=message):
        DpParameters(**arguments)  # type: ignore[arg-type]


def test_reporting_length_beyond_columns() -> None:
    params = DpParameters(epsilon=1.0, reporting_length=4)
    params.check_columns(4)
    with pytest.raises(ParameterError, match="data have only 3 columns"):
        params.check_columns(3)


def test_zero_record_share_is_fine_when_count_is_public() -> None:
    params = DpParameters(
        epsilon=1.0, number_of_records_epsilon_proportion=0.0, record_count_public=500
    )
    assert params.record_count_epsilon == 0.0


def test_numpy_numbers_are_accepted_and_normalised() -> None:
    params = DpParameters(
        epsilon=np.float64(2.0),  # type: ignore[arg-type]
        reporting_length=np.int64(2),  # type: ignore[arg-type]
        record_count_public=np.int64(1000),  # type: ignore[arg-type]
        percentile_epsilon_proportion=np.float32(0.25),  # type: ignore[arg-type]
    )
    assert type(params.reporting_length) is int
    assert type(params.record_count_public) is int
    assert type(params.percentile_epsilon_proportion) is float
    json.dumps(plan_budget(params).to_dict([3, 3]))


def test_plan_converts_within_budget_according_to_opendp() -> None:
    plan = plan_budget(DpParameters(epsilon=1.0, reporting_length=4), 50_000)
    assert opendp_epsilon(plan.rho_spent, plan.delta_conversion) <= plan.epsilon_marginals


# ------------------------------------------------------- guarantee-voiding values ---


def test_epsilon_above_twenty_is_refused_unless_allowed() -> None:
    with pytest.raises(ParameterError, match=r"above 20.*--allow-large-epsilon"):
        DpParameters(epsilon=20.5)
    DpParameters(epsilon=20.0)  # the limit itself is accepted
    plan = plan_budget(DpParameters(epsilon=50.0, allow_large_epsilon=True), 1000)
    assert plan.large_epsilon_allowed
    assert "--allow-large-epsilon" in plan.guarantee
    assert plan.to_dict()["allow_large_epsilon"] is True
    assert ". " not in plan.guarantee  # still one sentence


@pytest.mark.parametrize(("delta", "n"), [(0.5, 1000), (0.0011, 1000), (0.02, 60)])
def test_delta_above_one_over_n_is_refused_unless_allowed(delta: float, n: int) -> None:
    with pytest.raises(ParameterError, match=r"above 1/n.*--allow-large-delta"):
        plan_budget(DpParameters(epsilon=1.0, delta=delta), n)
    with pytest.raises(ParameterError, match=r"above 1/n"):
        DpParameters(epsilon=1.0, delta=delta, record_count_public=n)
    plan = plan_budget(DpParameters(epsilon=1.0, delta=delta, allow_large_delta=True), n)
    assert plan.large_delta_allowed
    assert "--allow-large-delta" in plan.guarantee
    assert plan.to_dict()["allow_large_delta"] is True


def test_delta_at_or_below_one_over_n_is_accepted() -> None:
    plan = plan_budget(DpParameters(epsilon=1.0, delta=1e-3), 1000)
    assert not plan.large_delta_allowed
    assert "allow-large-delta" not in plan.guarantee


@pytest.mark.parametrize(("epsilon", "expected"), [(0.5, 0.05), (1.0, 0.1), (4.0, 0.1), (20, 0.1)])
def test_default_record_count_budget_keeps_noise_under_two_percent_of_500(
    epsilon: float, expected: float
) -> None:
    params = DpParameters(epsilon=epsilon)
    assert params.record_count_epsilon == pytest.approx(expected)
    if epsilon >= 1:
        # mean |discrete Laplace(1/ε_N)| = 2e^{-ε_N}/(1 - e^{-2ε_N}) < 1/ε_N ≤ 2% of 500
        e = params.record_count_epsilon
        assert 2 * math.exp(-e) / (1 - math.exp(-2 * e)) < 0.02 * 500
    explicit = DpParameters(epsilon=epsilon, number_of_records_epsilon_proportion=0.005)
    assert explicit.record_count_epsilon == pytest.approx(0.005 * epsilon)


def test_record_count_warning_fires_when_noise_is_large_relative_to_n() -> None:
    from dpshowcase.privacy.accounting import record_count_warning

    assert record_count_warning(0.1, 500) is None  # ±10 is 2% of 500
    sentence = record_count_warning(0.1, 200)  # ±10 is 5% of 200
    assert sentence is not None
    assert sentence.count(". ") == 0
    assert "5%" in sentence
    assert record_count_warning(0.005, 5_000) is not None  # the old 0.5% share: ±200 is 4%


def test_record_count_from_marginals_spends_nothing_on_the_count() -> None:
    params = DpParameters(epsilon=2.0, delta=1e-6, record_count_from_marginals=True)
    assert params.record_count_epsilon == 0.0
    plan = plan_budget(params)
    # all of ε to the marginals: ρ converts (ε, δ/2) exactly as with a public count
    assert plan.epsilon_marginals == 2.0
    assert plan.rho == zcdp_rho(2.0, 0.5e-6)
    counted = plan_budget(DpParameters(epsilon=2.0, delta=1e-6))
    assert counted.epsilon_marginals == pytest.approx(1.9)
    assert counted.rho < plan.rho


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs delta given"),
        ({"delta": 1e-6, "record_count_public": 100}, "cannot go with a public count"),
        ({"delta": 1e-6, "number_of_records_epsilon_proportion": 0.1}, "a share of epsilon"),
        ({"delta": 1e-6, "record_count_from_marginals": 1}, "true or false"),
    ],
)
def test_record_count_from_marginals_is_checked(kwargs: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"record_count_from_marginals": True} | kwargs
    with pytest.raises(ParameterError, match=message):
        DpParameters(epsilon=1.0, **values)  # type: ignore[arg-type]
