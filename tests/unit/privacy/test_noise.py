"""Statistical tests of the noise samplers against their exact distributions.

The discrete Gaussian check (issue 3): for σ ∈ {0.5, 1, 3, 10, 100}, 100,000 draws, a
chi-square goodness-of-fit test against the exact pmf (bins pooled so that every expected
count is ≥ 5, significance 1e-4) and the sample variance within ±2.5% of the exact
discrete variance. The same check must fail for samples whose scale is off by ×0.7 or
×1.3. OpenDP's sampler cannot be seeded, so its tests are random but fail by chance with
probability about 1e-4 each; the seeded sampler's are deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from scipy import integrate, stats

from dpshowcase.errors import ParameterError
from dpshowcase.privacy import noise
from dpshowcase.privacy.noise import (
    NoiseSource,
    OpenDPNoise,
    SeededNoise,
    add_discrete_gaussian,
    default_noise_source,
    discrete_gaussian_pmf,
    laplace_count,
    noise_source,
    private_percentile,
)

SIGMAS = [0.5, 1.0, 3.0, 10.0, 100.0]
DRAWS = 100_000
SIGNIFICANCE = 1e-4
VARIANCE_TOLERANCE = 0.025


def pooled_bins(expected: npt.NDArray[np.float64], minimum: float = 5.0) -> list[slice]:
    """Consecutive support ranges whose expected counts are each ≥ ``minimum``."""
    bins: list[slice] = []
    start, running = 0, 0.0
    for index, value in enumerate(expected):
        running += value
        if running >= minimum:
            bins.append(slice(start, index + 1))
            start, running = index + 1, 0.0
    if start < len(expected):  # leftover right tail joins the last bin
        last = bins.pop()
        bins.append(slice(last.start, len(expected)))
    return bins


def exact_moments(scale: float) -> tuple[float, float]:
    """Variance and fourth moment of the discrete Gaussian N_Z(0, scale²)."""
    support, pmf = discrete_gaussian_pmf(scale)
    values = support.astype(np.float64)
    return float((values**2 * pmf).sum()), float((values**4 * pmf).sum())


def fits_discrete_gaussian(samples: npt.NDArray[np.int64], scale: float) -> tuple[bool, str]:
    """THE check: do ``samples`` look like N_Z(0, scale²)? Returns (passed, details).

    1. Chi-square goodness of fit against the exact pmf, bins pooled to expected ≥ 5
       (tails pooled into the outermost bins), df = bins − 1; pass if p > 1e-4.
    2. Sample variance within ±2.5% of the exact discrete variance Σ z²·P(z). The
       sampling sd of the sample variance is √((μ₄ − var²)/n) — about var·√(2/n) = 0.45%
       for a Gaussian at n = 100,000, at most 0.62% here (σ = 0.5, checked below) — so
       ±2.5% is more than 4 sd: a false failure has probability < 1e-4.
    """
    support, pmf = discrete_gaussian_pmf(scale)
    n = samples.size
    clipped = np.clip(samples, support[0], support[-1])  # beyond: mass < 1e-30
    observed_all = np.bincount(clipped - support[0], minlength=support.size)
    expected_all = pmf * n
    bins = pooled_bins(expected_all)
    observed = np.array([observed_all[b].sum() for b in bins], dtype=np.float64)
    expected = np.array([expected_all[b].sum() for b in bins])
    expected *= n / expected.sum()
    p_value = float(stats.chisquare(observed, expected).pvalue)
    variance, _ = exact_moments(scale)
    ratio = float(np.var(samples.astype(np.float64))) / variance
    passed = p_value > SIGNIFICANCE and abs(ratio - 1.0) <= VARIANCE_TOLERANCE
    details = f"chi-square p = {p_value:.3g} over {len(bins)} bins, variance ratio = {ratio:.4f}"
    return passed, details


@pytest.mark.parametrize("scale", SIGMAS)
def test_variance_tolerance_is_over_four_sampling_sd(scale: float) -> None:
    variance, fourth = exact_moments(scale)
    relative_sd = math.sqrt((fourth - variance**2) / DRAWS) / variance
    assert 4 * relative_sd < VARIANCE_TOLERANCE
    if scale >= 1:  # the discrete variance is σ² up to terms in e^(−2π²σ²) (< 3e-7)
        assert variance == pytest.approx(scale**2, rel=1e-6)
    else:  # … but visibly below σ² for small σ, so the test must use the exact value
        assert variance < 0.9 * scale**2


@pytest.mark.slow
@pytest.mark.parametrize("scale", SIGMAS)
def test_opendp_discrete_gaussian_matches_exact_pmf(scale: float) -> None:
    counts = np.random.default_rng(7).integers(0, 10_000, DRAWS, dtype=np.int64)
    noisy = add_discrete_gaussian(counts, scale, source=default_noise_source())
    assert noisy.dtype == np.int64
    passed, details = fits_discrete_gaussian(noisy - counts, scale)
    assert passed, details


@pytest.mark.parametrize("scale", SIGMAS)
def test_seeded_discrete_gaussian_matches_exact_pmf(scale: float) -> None:
    source = SeededNoise(seed=20240503)
    counts = np.arange(DRAWS, dtype=np.int64)
    passed, details = fits_discrete_gaussian(
        source.add_discrete_gaussian(counts, scale) - counts, scale
    )
    assert passed, details


@pytest.mark.parametrize("scale", SIGMAS)
@pytest.mark.parametrize("factor", [0.7, 1.3])
def test_check_rejects_a_wrong_scale_seeded(scale: float, factor: float) -> None:
    samples = SeededNoise(seed=11).discrete_gaussian(scale * factor, DRAWS)
    passed, details = fits_discrete_gaussian(samples, scale)
    assert not passed, details


@pytest.mark.slow
@pytest.mark.parametrize("scale", SIGMAS)
@pytest.mark.parametrize("factor", [0.7, 1.3])
def test_check_rejects_a_wrong_scale_opendp(scale: float, factor: float) -> None:
    samples = add_discrete_gaussian(np.zeros(DRAWS, dtype=np.int64), scale * factor)
    passed, details = fits_discrete_gaussian(samples, scale)
    assert not passed, details


@pytest.mark.slow
# ------------------------------------------------------------------ chunking --------


@pytest.mark.parametrize("parallel_min", [5_000, 10])
def test_chunks_keep_order_and_shape(monkeypatch: pytest.MonkeyPatch, parallel_min: int) -> None:
    """Chunks drawn one after another or on several threads land where they belong."""
    monkeypatch.setattr(noise, "CHUNK_SIZE", 7)
    monkeypatch.setattr(noise, "PARALLEL_MIN", parallel_min)
    counts = (np.arange(60, dtype=np.int64) * 1_000_000).reshape(3, 20)
    for source in (OpenDPNoise(), SeededNoise(1)):
        noisy = add_discrete_gaussian(counts, 1.0, source=source)
        assert noisy.shape == counts.shape
        assert noisy.dtype == np.int64
        # σ = 1: |noise| ≥ 100 has probability < 1e-2000, so order is visibly kept.
        assert np.abs(noisy - counts).max() < 100
    empty = add_discrete_gaussian(np.zeros(0, dtype=np.int64), 2.0)
    assert empty.shape == (0,)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan])
def test_bad_scale_is_rejected(bad: float) -> None:
    with pytest.raises(ParameterError, match="noise scale must be a positive finite number"):
        add_discrete_gaussian(np.zeros(3, dtype=np.int64), bad)


def test_float_counts_are_rejected() -> None:
    with pytest.raises(ParameterError, match="Counts must be an integer array"):
        add_discrete_gaussian(np.zeros(3), 1.0)  # type: ignore[arg-type]


# ------------------------------------------------------------------ sources --------


def test_sources_say_whether_they_are_private() -> None:
    opendp_source = noise_source()
    seeded = noise_source(seed=5)
    assert isinstance(opendp_source, NoiseSource)
    assert isinstance(seeded, NoiseSource)
    assert opendp_source.private is True
    assert seeded.private is False
    assert "NOT for release" in seeded.description
    assert "OpenDP" in opendp_source.description
    with pytest.raises(ParameterError, match="seed must be a whole number"):
        SeededNoise("5")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"from 0 to 2\^64 - 1"):
        SeededNoise(2**64)
    assert SeededNoise(2**64 - 1).seed == 2**64 - 1


def test_seeded_noise_is_reproducible() -> None:
    counts = np.arange(1000, dtype=np.int64)

    def run(seed: int) -> tuple[npt.NDArray[np.int64], int, int]:
        source = SeededNoise(seed)
        return (
            add_discrete_gaussian(counts, 4.0, source=source),
            laplace_count(500, 0.1, source=source),
            private_percentile(counts % 50, 90, 1.0, 60, source=source),
        )

    first, second, other = run(3), run(3), run(4)
    assert np.array_equal(first[0], second[0])
    assert first[1:] == second[1:]
    assert not np.array_equal(first[0], other[0])


# ------------------------------------------------------------------ Laplace --------


def discrete_laplace_fits(samples: npt.NDArray[np.int64], scale: float) -> float:
    """Chi-square p-value of samples against P(z) = (1−q)/(1+q)·q^|z|, q = e^(−1/scale)."""
    q = math.exp(-1.0 / scale)
    radius = int(scale * 40) + 2
    support = np.arange(-radius, radius + 1)
    pmf = (1 - q) / (1 + q) * q ** np.abs(support)
    observed_all = np.bincount(np.clip(samples, -radius, radius) + radius, minlength=support.size)
    bins = pooled_bins(pmf * samples.size)
    observed = np.array([observed_all[b].sum() for b in bins], dtype=np.float64)
    expected = np.array([pmf[b].sum() for b in bins])
    return float(stats.chisquare(observed, expected * samples.size / expected.sum()).pvalue)


@pytest.mark.parametrize("make_source", [OpenDPNoise, lambda: SeededNoise(8)])
def test_discrete_laplace_matches_exact_pmf(make_source: type[NoiseSource]) -> None:
    source = make_source()
    epsilon = 0.5  # scale 2
    draws = np.array([source.add_discrete_laplace(0, epsilon) for _ in range(20_000)])
    assert discrete_laplace_fits(draws, 1 / epsilon) > SIGNIFICANCE


def test_laplace_count_is_clamped_at_zero() -> None:
    source = SeededNoise(9)
    epsilon = 0.5
    draws = np.array([laplace_count(0, epsilon, source=source) for _ in range(20_000)])
    assert draws.min() == 0
    # P(result = 0) = P(Z ≤ 0) = 1/(1+q); binomial sd at n = 20,000 is < 0.0036.
    q = math.exp(-epsilon)
    assert abs((draws == 0).mean() - 1 / (1 + q)) < 5 * 0.0036
    assert laplace_count(10_000, 1.0) == pytest.approx(10_000, abs=40)  # P(|Z|>40) < 1e-17


@pytest.mark.parametrize(("count", "epsilon"), [(-1, 1.0), (3, 0.0), (3, -2.0), (3, math.inf)])
def test_laplace_count_rejects_bad_arguments(count: int, epsilon: float) -> None:
    with pytest.raises(ParameterError, match="must be a"):
        laplace_count(count, epsilon)


# ------------------------------------------------------------------ percentile -----


@pytest.mark.parametrize("make_source", [OpenDPNoise, lambda: SeededNoise(10)])
def test_percentile_is_accurate_with_enough_records(make_source: type[NoiseSource]) -> None:
    # 100 records at each value 0..99. Score |0.01·#{x<c} − 0.99·#{x>c}| = |100c − 9801|
    # for c ≤ 99 is 1 at c = 98 and ≥ 99 elsewhere (100 beyond 99); exponential noise
    # of scale 1.98 (ε = 1) overcomes a gap of 99 with probability < 200·e^(−50).
    values = np.repeat(np.arange(100, dtype=np.int64), 100)
    source = make_source()
    results = {private_percentile(values, 99, 1.0, 200, source=source) for _ in range(20)}
    assert results == {98}


@pytest.mark.slow
def test_seeded_percentile_has_opendp_distribution() -> None:
    # Small data, so the selection is really random; two-sample chi-square, p > 1e-4.
    values = np.array([0, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 6, 7, 7, 9, 10, 10, 10, 12, 5])
    draws = 4000
    opendp_source, seeded = OpenDPNoise(), SeededNoise(12)
    picks = [
        np.bincount(
            [private_percentile(values, 90, 1.0, 15, source=src) for _ in range(draws)],
            minlength=16,
        )
        for src in (opendp_source, seeded)
    ]
    table = np.vstack(picks)
    table = table[:, table.sum(axis=0) >= 10]
    assert stats.chi2_contingency(table).pvalue > SIGNIFICANCE


def selection_probabilities(
    values: npt.NDArray[np.int64], alpha: float, epsilon: float, upper: int
) -> npt.NDArray[np.float64]:
    """Exact answer probabilities of report-noisy-max with exponential noise.

    Candidate c wins when −score_c + E_c beats every other −score_j + E_j, with
    E ~ Exp(b), b = 2·max(α, 1−α)/ε: P(c) = ∫ f_c(x)·Π_{j≠c} F_j(x) dx, integrated
    numerically (quad, absolute error < 1e-10).
    """
    candidates = np.arange(upper + 1)
    less = np.array([(values < c).sum() for c in candidates])
    greater = np.array([(values > c).sum() for c in candidates])
    score = np.abs((1 - alpha) * less - alpha * greater)
    b = 2 * max(alpha, 1 - alpha) / epsilon

    def density(x: float, c: int) -> float:
        if x < -score[c]:
            return 0.0
        others = 1 - np.exp(-np.maximum(x + np.delete(score, c), 0) / b)
        return math.exp(-(x + score[c]) / b) / b * float(np.prod(others))

    return np.array(
        [
            integrate.quad(density, -score[c], -score[c] + 60 * b, args=(c,), epsabs=1e-12)[0]
            for c in candidates
        ]
    )


def test_percentile_is_epsilon_dp_and_seeded_sampler_matches() -> None:
    epsilon, alpha, upper = 0.7, 0.5, 10
    base = np.array([0, 1, 1, 2, 3, 3, 3, 5, 8, 9], dtype=np.int64)
    neighbour = np.append(base, 9)  # one record more
    p_base = selection_probabilities(base, alpha, epsilon, upper)
    p_neighbour = selection_probabilities(neighbour, alpha, epsilon, upper)
    assert p_base.sum() == pytest.approx(1, abs=1e-8)
    # ε-DP, exactly: every answer's probability ratio is within e^±ε.
    assert np.all(p_base <= math.exp(epsilon) * p_neighbour * (1 + 1e-8))
    assert np.all(p_neighbour <= math.exp(epsilon) * p_base * (1 + 1e-8))
    # The seeded sampler draws from exactly these probabilities (chi-square, p > 1e-4).
    source = SeededNoise(13)
    draws = 20_000
    picks = [private_percentile(base, 50, epsilon, upper, source=source) for _ in range(draws)]
    observed = np.bincount(picks, minlength=upper + 1).astype(np.float64)
    bins = pooled_bins(p_base * draws)
    grouped = np.array([observed[b].sum() for b in bins])
    expected = np.array([p_base[b].sum() for b in bins]) * draws
    expected *= draws / expected.sum()
    assert stats.chisquare(grouped, expected).pvalue > SIGNIFICANCE


@pytest.mark.parametrize(
    ("values", "percentile", "epsilon", "upper", "message"),
    [
        ([1, 2], 0, 1.0, 5, r"percentile must be in \(0, 100\]"),
        ([1, 2], 101, 1.0, 5, r"percentile must be in \(0, 100\]"),
        ([1, -2], 50, 1.0, 5, "must all be ≥ 0"),
        ([1, 2], 50, 0.0, 5, "epsilon must be a positive finite number"),
        ([1, 2], 50, 1.0, -1, "upper_bound must be ≥ 0"),
        ([1.5, 2.0], 50, 1.0, 5, "Counts must be an integer array"),
    ],
)
def test_percentile_rejects_bad_arguments(
    values: list[float], percentile: float, epsilon: float, upper: int, message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        private_percentile(np.array(values), percentile, epsilon, upper)


@pytest.mark.parametrize("make_source", [OpenDPNoise, lambda: SeededNoise(14)])
def test_sources_validate_selection_inputs_themselves(make_source: type[NoiseSource]) -> None:
    source = make_source()
    values = np.array([1, 2, 3], dtype=np.int64)
    with pytest.raises(ParameterError, match=r"quantile level must be in \(0, 1\]"):
        source.select_percentile(values, 99.0, 1.0, 5)  # a percentage, not a level
    with pytest.raises(ParameterError, match="epsilon must be a positive finite number"):
        source.select_percentile(values, 0.5, 0.0, 5)
    with pytest.raises(ParameterError, match="must all be ≥ 0"):
        source.select_percentile(np.array([-1, 2]), 0.5, 1.0, 5)
    assert source.select_percentile(values.astype(np.int32), 0.5, 1.0, 5) in range(6)
