"""The only place dpshowcase draws differential-privacy noise.

Three mechanisms, each behind a tiny :class:`NoiseSource` interface:

* discrete Gaussian noise added to integer counts (the marginals);
* discrete Laplace noise added to the record count (pure ε-DP), clamped at 0;
* a DP percentile of per-record combination counts (pure ε-DP), by report-noisy-max
  with exponential noise over candidates 0..upper_bound (equivalently permute-and-flip,
  McKenna–Sheldon 2020) on Smith's quantile score;
* the same mechanism over public candidate numbers, for bin edges of a numeric column
  (:meth:`NoiseSource.select_quantile`).

Two implementations:

* :class:`OpenDPNoise` (the default, ``private = True``): OpenDP's vetted samplers —
  exact discrete Gaussian and discrete Laplace sampling (Canonne–Kamath–Steinke 2020)
  from the operating system's CSPRNG, and ``make_private_quantile``. No floating-point
  or seeded randomness. OpenDP's samplers cannot be seeded.
* :class:`SeededNoise` (``private = False``): the same distributions from a seeded
  ``numpy.random.Generator``, for reproducible tests and demos (``--seed``). Its output
  must never be published as private: releases made with it are stamped "not for
  release". The discrete Gaussian uses CKS 2020's rejection sampler (Algorithm 3:
  discrete Laplace proposals, accepted with probability exp(−(|y| − σ²/t)²/(2σ²))),
  exact up to the 2⁻⁵³ resolution of the uniform draws.

Throughput (measured on the 2-core development machine, one thread):
OpenDP's discrete Gaussian costs about 10 µs per draw for σ ≥ 3 and about 15 µs at
σ ≤ 1 (roughly 70,000–100,000 draws/s, one core; it is exact rational arithmetic), so
ten million candidate counts take a few minutes. The seeded sampler costs about
0.05–0.2 µs per draw. Large arrays go to OpenDP in chunks of :data:`CHUNK_SIZE` so the
temporary Python lists stay small, drawn on up to :data:`MAX_THREADS` threads at once
(``benchmarks/bench_noise.py`` prints the throughput).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from dpshowcase.errors import InternalError, ParameterError

__all__ = [
    "CHUNK_SIZE",
    "MAX_SEED",
    "NoiseSource",
    "OpenDPNoise",
    "SeededNoise",
    "add_discrete_gaussian",
    "check_seed",
    "default_noise_source",
    "discrete_gaussian_pmf",
    "laplace_count",
    "noise_source",
    "private_percentile",
]

IntArray = npt.NDArray[np.int64]

CHUNK_SIZE = 200_000
"""Counts handed to OpenDP per call: bounds the temporary Python lists' memory."""
PARALLEL_MIN = 5_000
"""Arrays at least twice this long are drawn on several threads (OpenDP's sampler runs
outside Python's lock), in chunks of at least this many counts."""
MAX_THREADS = 4
"""At most this many threads draw noise at once (never more than the machine's cores)."""


# --------------------------------------------------------------------------------------
# Validation shared by every source
# --------------------------------------------------------------------------------------


def _check_scale(scale: float) -> float:
    if isinstance(scale, bool) or not isinstance(scale, int | float | np.floating):
        raise ParameterError(f"The noise scale must be a number, got {scale!r}.")
    if not math.isfinite(scale) or scale <= 0:
        raise ParameterError(f"The noise scale must be a positive finite number, got {scale!r}.")
    return float(scale)


def _check_epsilon(epsilon: float) -> float:
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float | np.floating):
        raise ParameterError(f"epsilon must be a number, got {epsilon!r}.")
    if not math.isfinite(epsilon) or epsilon <= 0:
        raise ParameterError(f"epsilon must be a positive finite number, got {epsilon!r}.")
    return float(epsilon)


def _as_counts(counts: npt.ArrayLike) -> IntArray:
    array = np.asarray(counts)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise ParameterError(f"Counts must be an integer array, got dtype {array.dtype}.")
    return array.astype(np.int64, copy=False)


def _check_selection(
    values: npt.ArrayLike, alpha: float, epsilon: float, upper_bound: int
) -> tuple[IntArray, float, float, int]:
    """Validate a quantile selection's inputs; every source calls this first."""
    array = _as_counts(values).ravel()
    if array.size and int(array.min()) < 0:
        raise ParameterError("Percentile inputs are per-record counts and must all be ≥ 0.")
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.floating):
        raise ParameterError(f"The quantile level must be a number, got {alpha!r}.")
    if not (0 < alpha <= 1):
        raise ParameterError(f"The quantile level must be in (0, 1], got {alpha!r}.")
    if isinstance(upper_bound, bool) or not isinstance(upper_bound, int | np.integer):
        raise ParameterError(f"upper_bound must be an integer, got {upper_bound!r}.")
    if upper_bound < 0:
        raise ParameterError(f"upper_bound must be ≥ 0, got {upper_bound!r}.")
    return array, float(alpha), _check_epsilon(epsilon), int(upper_bound)


def _check_quantile(
    values: npt.ArrayLike, alpha: float, epsilon: float, candidates: Sequence
) -> tuple[npt.NDArray[np.float64], float, float, list[float]]:
    """Validate a selection among public candidate numbers; every source calls this."""
    array = np.asarray(values, dtype=np.float64).ravel()
    array = array[np.isfinite(array)]
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.floating):
        raise ParameterError(f"The quantile level must be a number, got {alpha!r}.")
    if not (0 < alpha < 1):
        raise ParameterError(f"The quantile level must be in (0, 1), got {alpha!r}.")
    grid = [float(c) for c in candidates]
    if not grid or any(not math.isfinite(c) for c in grid) or grid != sorted(set(grid)):
        raise ParameterError("The candidates must be finite numbers, strictly increasing.")
    return array, float(alpha), _check_epsilon(epsilon), grid


def _check_scores(
    scores: npt.ArrayLike, sensitivity: float, epsilon: float
) -> tuple[npt.NDArray[np.float64], float, float]:
    """Validate a noisy-max selection's inputs; every source calls this first."""
    array = np.asarray(scores, dtype=np.float64).ravel()
    if array.size == 0 or not np.all(np.isfinite(array)):
        raise ParameterError("A selection needs at least one score, all finite.")
    if isinstance(sensitivity, bool) or not (
        isinstance(sensitivity, int | float) and math.isfinite(sensitivity) and sensitivity > 0
    ):
        raise ParameterError(f"The score sensitivity must be > 0, got {sensitivity!r}.")
    return array, float(sensitivity), _check_epsilon(epsilon)


def _quantile_noise_scale(alpha: float, epsilon: float) -> float:
    """Exponential-noise scale for an ε-DP quantile selection at level ``alpha``.

    Smith's score |(1−α)·#{x<c} − α·#{x>c}| moves by at most max(α, 1−α) when one
    record is added or removed; report-noisy-max with exponential noise of scale b on a
    score of sensitivity Δ (not monotone) is 2Δ/b-DP. This matches OpenDP's
    ``make_private_quantile`` privacy map (ε = 2·max(α, 1−α)/scale).
    """
    return 2.0 * max(alpha, 1.0 - alpha) / epsilon


# --------------------------------------------------------------------------------------
# Interface
# --------------------------------------------------------------------------------------


@runtime_checkable
class NoiseSource(Protocol):
    """Where DP noise comes from. ``private`` is True only for sources fit for release."""

    @property
    def private(self) -> bool:
        """True when the noise is vetted, unseeded and fit to publish."""
        ...

    @property
    def description(self) -> str:
        """One line for the release's parameters.json (which sampler, which seed)."""
        ...

    def add_discrete_gaussian(self, counts: IntArray, scale: float) -> IntArray:
        """Return ``counts`` plus independent discrete Gaussian noise of ``scale``."""
        ...

    def add_discrete_laplace(self, value: int, epsilon: float) -> int:
        """Return ``value`` plus discrete Laplace noise of scale 1/ε (ε-DP for Δ=1)."""
        ...

    def select_percentile(
        self, values: IntArray, alpha: float, epsilon: float, upper_bound: int
    ) -> int:
        """Return an ε-DP ``alpha``-quantile of ``values`` among 0..upper_bound."""
        ...

    def select_quantile(
        self, values: npt.NDArray[np.float64], alpha: float, epsilon: float, candidates: Sequence
    ) -> float:
        """Return an ε-DP ``alpha``-quantile of ``values`` among public ``candidates``."""

    def select_noisy_max(
        self, scores: npt.NDArray[np.float64], sensitivity: float, epsilon: float
    ) -> int:
        """Index of the largest score after Gumbel noise: the ε-DP exponential mechanism
        for scores that each move by at most ``sensitivity`` (ε²/8-zCDP)."""
        ...


# --------------------------------------------------------------------------------------
# OpenDP (for releases)
# --------------------------------------------------------------------------------------


class OpenDPNoise:
    """Noise from OpenDP's vetted samplers (CSPRNG, exact discrete sampling). Unseedable."""

    private = True

    def __init__(self) -> None:
        """Import OpenDP and enable its "contrib" features (needed for these mechanisms)."""
        # Deferred: OpenDP takes about half a second to import; seeded runs never need it.
        import opendp.prelude as dp

        dp.enable_features("contrib")
        self._dp = dp
        self._gaussians: dict[float, object] = {}
        self._laplaces: dict[float, object] = {}

    @property
    def description(self) -> str:
        """Which library drew the noise."""
        return f"OpenDP {metadata.version('opendp')} samplers (CSPRNG, not seedable)"

    def _gaussian(self, scale: float) -> object:
        measurement = self._gaussians.get(scale)
        if measurement is None:
            dp = self._dp
            measurement = dp.m.make_gaussian(
                dp.vector_domain(dp.atom_domain(T="i64")), dp.l2_distance(T="i64"), scale=scale
            )
            if len(self._gaussians) > 64:
                self._gaussians.clear()
            self._gaussians[scale] = measurement
        return measurement

    def add_discrete_gaussian(self, counts: IntArray, scale: float) -> IntArray:
        """Counts plus OpenDP discrete Gaussian noise, drawn in chunks on several threads."""
        scale = _check_scale(scale)
        array = _as_counts(counts)
        flat = array.ravel()
        out = np.empty(flat.shape, dtype=np.int64)
        measurement = self._gaussian(scale)
        threads = max(1, min(os.cpu_count() or 1, MAX_THREADS, flat.size // PARALLEL_MIN))
        step = max(1, min(CHUNK_SIZE, -(-flat.size // threads)))

        def draw(start: int) -> None:
            chunk = flat[start : start + step]
            noisy = measurement(chunk.tolist())  # type: ignore[operator]
            if len(noisy) != chunk.size:
                raise InternalError("OpenDP returned a different number of noisy counts.")
            out[start : start + chunk.size] = np.fromiter(noisy, dtype=np.int64, count=chunk.size)

        starts = range(0, flat.size, step)
        if threads == 1:
            for start in starts:
                draw(start)
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                list(pool.map(draw, starts))  # list(): re-raise a worker's error here
        return out.reshape(array.shape)

    def _laplace(self, epsilon: float) -> object:
        measurement = self._laplaces.get(epsilon)
        if measurement is None:
            dp = self._dp
            scale = 1.0 / epsilon
            for _ in range(64):  # nudge the scale up until OpenDP's own map says ≤ ε
                measurement = dp.m.make_laplace(
                    dp.atom_domain(T="i64"), dp.absolute_distance(T="i64"), scale=scale
                )
                if measurement.map(1) <= epsilon:
                    break
                scale = math.nextafter(scale, math.inf)
            else:  # pragma: no cover - OpenDP's map is within a few ulps of 1/scale
                raise InternalError("could not calibrate OpenDP's Laplace to the asked epsilon.")
            self._laplaces[epsilon] = measurement
        return measurement

    def add_discrete_laplace(self, value: int, epsilon: float) -> int:
        """``value`` plus OpenDP discrete Laplace noise, ε-DP for sensitivity 1."""
        epsilon = _check_epsilon(epsilon)
        return int(self._laplace(epsilon)(int(value)))  # type: ignore[operator]

    def select_percentile(
        self, values: IntArray, alpha: float, epsilon: float, upper_bound: int
    ) -> int:
        """OpenDP ``make_private_quantile`` over candidates 0..upper_bound (pure ε-DP)."""
        values, alpha, epsilon, upper_bound = _check_selection(values, alpha, epsilon, upper_bound)
        atom = self._dp.atom_domain(T="i64")
        measurement = self._quantile(atom, list(range(upper_bound + 1)), alpha, epsilon)
        return int(measurement(values.tolist()))

    def select_quantile(
        self, values: npt.NDArray[np.float64], alpha: float, epsilon: float, candidates: Sequence
    ) -> float:
        """OpenDP ``make_private_quantile`` over public candidate numbers (pure ε-DP)."""
        array, alpha, epsilon, grid = _check_quantile(values, alpha, epsilon, candidates)
        atom = self._dp.atom_domain(T="f64", nan=False)
        measurement = self._quantile(atom, grid, alpha, epsilon)
        return float(measurement(array.tolist()))

    def _quantile(self, atom: Any, candidates: Sequence, alpha: float, epsilon: float) -> Any:
        """OpenDP's quantile measurement over ``candidates``, calibrated to spend ≤ ε."""
        dp = self._dp
        scale = _quantile_noise_scale(alpha, epsilon)
        for _ in range(64):  # nudge the scale up until OpenDP's own map says ≤ ε
            measurement = dp.m.make_private_quantile(
                dp.vector_domain(atom),
                dp.symmetric_distance(),
                dp.max_divergence(),
                candidates=candidates,
                alpha=alpha,
                scale=scale,
            )
            if measurement.map(1) <= epsilon:
                return measurement
            scale = math.nextafter(scale, math.inf)
        # pragma: no cover - OpenDP's map is within a few ulps of the formula
        raise InternalError("could not calibrate OpenDP's quantile to the asked epsilon.")

    def select_noisy_max(
        self, scores: npt.NDArray[np.float64], sensitivity: float, epsilon: float
    ) -> int:
        """OpenDP ``make_noisy_max`` (Gumbel noise, report-noisy-max), ε-DP.

        The scale starts at 2Δ/ε (scores of sensitivity Δ need not move together) and is
        nudged up until OpenDP's own privacy map says ≤ ε.
        """
        array, sensitivity, epsilon = _check_scores(scores, sensitivity, epsilon)
        dp = self._dp
        scale = 2.0 * sensitivity / epsilon
        for _ in range(64):
            measurement = dp.m.make_noisy_max(
                dp.vector_domain(dp.atom_domain(T=float, nan=False)),
                dp.linf_distance(T=float),
                dp.max_divergence(),
                scale=scale,
            )
            if measurement.map(sensitivity) <= epsilon:
                break
            scale = math.nextafter(scale, math.inf)
        else:  # pragma: no cover - OpenDP's map is within a few ulps of the formula
            raise InternalError("could not calibrate OpenDP's noisy max to the asked epsilon.")
        return int(measurement(array.tolist()))


# --------------------------------------------------------------------------------------
# Seeded (tests and demos only)
# --------------------------------------------------------------------------------------


MAX_SEED = 2**64 - 1
"""The largest seed: seeds are unsigned 64-bit numbers."""


def check_seed(seed: object) -> int | None:
    """The seed as an int, None for no seed; refuse anything but a whole number in range.

    The one check of a seed, whoever gives it (command line, config file, web app).
    """
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not (
        0 <= seed <= MAX_SEED
    ):
        raise ParameterError(
            f"The seed must be a whole number from 0 to 2^64 - 1 (or none), not {seed!r}."
        )
    return int(seed)


class SeededNoise:
    """The same distributions from a seeded numpy Generator. NOT for release."""

    private = False

    def __init__(self, seed: int) -> None:
        """Seed a PCG64 generator; the same seed and calls give the same noise."""
        check_seed(seed)
        self.seed = int(seed)
        self._rng = np.random.default_rng(self.seed)

    @property
    def description(self) -> str:
        """Says plainly that this noise is reproducible and so not private."""
        return f"seeded numpy PCG64 (seed {self.seed}): reproducible, NOT for release"

    def _discrete_laplace(self, scale: float, size: int) -> IntArray:
        """Discrete Laplace, P(y) ∝ exp(−|y|/scale): difference of two geometric draws."""
        p = -math.expm1(-1.0 / scale)
        first = self._rng.geometric(p, size)
        second = self._rng.geometric(p, size)
        return (first - second).astype(np.int64)

    def discrete_gaussian(self, scale: float, size: int) -> IntArray:
        """``size`` draws of the discrete Gaussian N_Z(0, scale²) (CKS 2020, Algorithm 3)."""
        scale = _check_scale(scale)
        out = np.empty(size, dtype=np.int64)
        t = math.floor(scale) + 1.0
        variance = scale * scale
        filled = 0
        while filled < size:
            want = size - filled
            batch = int(want * 1.6) + 64  # acceptance is at least ~0.6 (CKS 2020, §5.3)
            proposal = self._discrete_laplace(t, batch)
            gap = np.abs(proposal) - variance / t
            accept = self._rng.random(batch) < np.exp(-(gap * gap) / (2.0 * variance))
            kept = proposal[accept][:want]
            out[filled : filled + kept.size] = kept
            filled += kept.size
        return out

    def add_discrete_gaussian(self, counts: IntArray, scale: float) -> IntArray:
        """Counts plus seeded discrete Gaussian noise of ``scale``."""
        scale = _check_scale(scale)
        array = _as_counts(counts)
        return array + self.discrete_gaussian(scale, array.size).reshape(array.shape)

    def add_discrete_laplace(self, value: int, epsilon: float) -> int:
        """``value`` plus seeded discrete Laplace noise of scale 1/ε."""
        epsilon = _check_epsilon(epsilon)
        return int(value) + int(self._discrete_laplace(1.0 / epsilon, 1)[0])

    def select_percentile(
        self, values: IntArray, alpha: float, epsilon: float, upper_bound: int
    ) -> int:
        """Report-noisy-max with exponential noise on Smith's score, as OpenDP does."""
        values, alpha, epsilon, upper_bound = _check_selection(values, alpha, epsilon, upper_bound)
        scale = _quantile_noise_scale(alpha, epsilon)
        histogram = np.bincount(np.minimum(values, upper_bound + 1), minlength=upper_bound + 2)
        at_most = np.cumsum(histogram)[: upper_bound + 1]  # #{x ≤ c} for c = 0..upper_bound
        less = at_most - histogram[: upper_bound + 1]  # #{x < c}
        greater = values.size - at_most  # #{x > c}
        score = np.abs((1.0 - alpha) * less - alpha * greater)
        noisy = -score + self._rng.exponential(scale, upper_bound + 1)
        return int(np.argmax(noisy))

    def select_quantile(
        self, values: npt.NDArray[np.float64], alpha: float, epsilon: float, candidates: Sequence
    ) -> float:
        """Report-noisy-max with exponential noise on Smith's score, as OpenDP does."""
        array, alpha, epsilon, grid = _check_quantile(values, alpha, epsilon, candidates)
        scale = _quantile_noise_scale(alpha, epsilon)
        ordered = np.sort(array)
        points = np.asarray(grid)
        less = np.searchsorted(ordered, points, side="left")
        greater = ordered.size - np.searchsorted(ordered, points, side="right")
        score = np.abs((1.0 - alpha) * less - alpha * greater)
        noisy = -score + self._rng.exponential(scale, points.size)
        return float(points[int(np.argmax(noisy))])

    def select_noisy_max(
        self, scores: npt.NDArray[np.float64], sensitivity: float, epsilon: float
    ) -> int:
        """Report-noisy-max with seeded Gumbel noise of scale 2Δ/ε, as OpenDP does."""
        array, sensitivity, epsilon = _check_scores(scores, sensitivity, epsilon)
        noisy = array + self._rng.gumbel(0.0, 2.0 * sensitivity / epsilon, array.size)
        return int(np.argmax(noisy))


# --------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------

_default_source: OpenDPNoise | None = None


def default_noise_source() -> OpenDPNoise:
    """The process-wide OpenDP source used when no source is given."""
    global _default_source
    if _default_source is None:
        _default_source = OpenDPNoise()
    return _default_source


def noise_source(seed: int | None = None) -> NoiseSource:
    """OpenDP's private source, or a :class:`SeededNoise` (not for release) for a seed."""
    return default_noise_source() if seed is None else SeededNoise(seed)


def add_discrete_gaussian(
    counts: IntArray, scale: float, *, source: NoiseSource | None = None
) -> IntArray:
    """Return ``counts`` (any integer array) plus discrete Gaussian noise of ``scale``.

    ``scale`` is the noise's σ parameter (for the DP marginals: σ_k·√Δ_k). The noise is
    the discrete Gaussian N_Z(0, scale²), P(z) ∝ exp(−z²/(2·scale²)) on the integers; its
    variance is slightly below scale² (see :func:`discrete_gaussian_pmf`).
    """
    return (source or default_noise_source()).add_discrete_gaussian(counts, scale)


def laplace_count(count: int, epsilon: float, *, source: NoiseSource | None = None) -> int:
    """The record count protected with ε-DP discrete Laplace noise (scale 1/ε), ≥ 0.

    Adding or removing one privacy unit changes the count by 1. The result is clamped at
    0, which is post-processing and costs nothing.
    """
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
        raise ParameterError(f"The record count must be a whole number ≥ 0, got {count!r}.")
    noisy = (source or default_noise_source()).add_discrete_laplace(int(count), epsilon)
    return max(0, noisy)


def private_percentile(
    values: npt.ArrayLike,
    percentile: float,
    epsilon: float,
    upper_bound: int,
    *,
    source: NoiseSource | None = None,
) -> int:
    """An ε-DP ``percentile`` (in (0, 100]) of non-negative integer ``values``.

    Privacy unit: one value (one record's count) added or removed — the unbounded
    neighbour relation; ``upper_bound`` must not depend on the data (e.g. the number of
    k-subsets of the columns), and the answer is one of 0..upper_bound. Mechanism:
    report-noisy-max with exponential noise of scale 2·max(α, 1−α)/ε on Smith's score
    |(1−α)·#{x<c} − α·#{x>c}|, α = percentile/100 (OpenDP ``make_private_quantile``).
    """
    if isinstance(percentile, bool) or not isinstance(percentile, int | float | np.floating):
        raise ParameterError(f"percentile must be a number, got {percentile!r}.")
    if not (0 < percentile <= 100):
        raise ParameterError(f"percentile must be in (0, 100], got {percentile!r}.")
    array, alpha, epsilon, upper_bound = _check_selection(
        values, float(percentile) / 100.0, epsilon, upper_bound
    )
    return (source or default_noise_source()).select_percentile(array, alpha, epsilon, upper_bound)


def discrete_gaussian_pmf(scale: float) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """Support and probabilities of N_Z(0, scale²), truncated where the mass is < 1e-30.

    P(z) = exp(−z²/(2σ²)) / Σ_y exp(−y²/(2σ²)). The support is |z| ≤ ⌈12σ⌉ + 2, beyond
    which the mass is below exp(−72) ≈ 5e-32 relative to P(0), far below float64
    resolution. Used by tests and by anyone who needs the exact variance.
    """
    scale = _check_scale(scale)
    radius = math.ceil(12.0 * scale) + 2
    support = np.arange(-radius, radius + 1, dtype=np.int64)
    weights = np.exp(-(support.astype(np.float64) ** 2) / (2.0 * scale * scale))
    return support, weights / weights.sum()
