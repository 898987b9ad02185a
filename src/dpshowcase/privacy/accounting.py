"""Privacy accounting of the DP-marginals release: ε, δ → ρ → ε_Q, σ_k → thresholds.

This is the only module that decides how much privacy a DP-marginals release spends.
Everything a release states about its guarantee comes from the :class:`BudgetPlan` made
here, so the statement and the noise cannot drift apart.

The guarantee
-------------
For neighbouring datasets that differ by one privacy unit (one record, or one subject
when the rows of a subject were merged first), the whole release — protected record
count, DP percentiles, noisy marginals, thresholds, and everything synthesized from them
afterwards (post-processing) — is (ε, δ)-differentially private, where

* ε = ε_N + ε_E + ε_M. ε_N pays for the record count (discrete Laplace of scale 1/ε_N,
  pure ε_N-DP): ``number_of_records_epsilon_proportion`` · ε when given, else
  :data:`RECORD_COUNT_EPSILON` · min(1, ε) (noise under 2% of n from n = 500 on when
  ε ≥ 1); it is 0 when the count is declared public, and 0 for AIM and MST with
  ``record_count_from_marginals`` (δ given): they estimate the count from the noisy
  1-way marginals they measure anyway (post-processing). ε_E =
  ``edges_epsilon_proportion`` · ε pays for bin edges chosen from the data (DP
  quantiles, pure DP each, split evenly; 0 unless asked). ε_M pays for the marginals.
  Pure DP composes with (ε_M, δ)-DP by adding the ε's (basic composition).
* δ is given, or inferred as 1/(n·ln n) from the protected (or public) record count n,
  as the reference does. It is split in two halves, as in the reference (whose
  ρ = (√(ε_M + ln(2/δ)) − √ln(2/δ))² is Bun–Steinke's conversion at δ/2):

  - δ/2 for converting the marginals' ρ-zCDP into (ε_M, δ/2)-DP, and
  - δ/2 for the threshold ρ_1 on single attributes: the candidates of length 1 are the
    attributes seen in the data, so a record can bring attributes nobody else has; ρ_1 is
    set so that none of its (at most Δ_1) such attributes survives with probability
    ≥ 1 − δ/2. Longer candidates are built only from released shorter ones, so they
    leak nothing beyond the noise.

* The marginals are ρ-zCDP in total (Bun–Steinke 2016, Lemma 2.3 / Prop. 1.4: zCDP
  composes additively, and pure ε-DP implies ε²/2-zCDP):

  - R DP percentiles (one per length) at pure ε_Q each: R·ε_Q²/2 = Q_p·ρ,
    so ε_Q = √(2ρQ_p/R);
  - the noisy counts of length k get discrete Gaussian noise of scale σ_k·√Δ_k, where
    Δ_k bounds how many length-k combinations one record contributes to (each by 1),
    so the vector's L2 sensitivity is √Δ_k and it is 1/(2σ_k²)-zCDP whatever Δ_k is
    (Canonne–Kamath–Steinke 2020: independent discrete Gaussian coordinates compose
    like the continuous Gaussian, ρ = ‖Δ‖₂²/(2·scale²));
    Σ_k 1/(2σ_k²) = (1 − Q_p)·ρ.

* ρ is the largest value whose conversion under Canonne–Kamath–Steinke 2020
  ("The Discrete Gaussian for Differential Privacy", Prop. 12 / Cor. 13 — the conversion
  OpenDP's ``make_zCDP_to_approxDP`` uses) gives at most (ε_M, δ/2)-DP:

      δ(ρ, ε) = inf_{α>1} exp((α−1)(αρ−ε)) / (α−1) · (1 − 1/α)^α.

  Every α > 1 gives a valid bound, so an imprecise minimisation can only make δ larger
  (safer); ρ is found by bisection and the feasible end is returned, i.e. rounding is
  always toward more privacy (less ρ, larger σ, higher ρ_1).

Design reference: Microsoft synthetic-data-showcase, docs/dp/README.md and
"Differentially Private Marginals" (dp_marginals.pdf); this module keeps its budget split
and thresholds but replaces its Bun–Steinke conversion with the tight one above
(:func:`reference_rho` keeps the loose formula, for comparison only).

Departures from the reference, on purpose:

* ρ_1 is rounded up to the next integer above 1 + the continuous formula (see
  :meth:`BudgetPlan.threshold`): our noise is the *discrete* Gaussian, whose tail is
  bounded by the continuous tail one unit earlier (CKS 2020's tail bound, checked
  numerically in the tests), and noisy counts
  are integers.
* Adaptive thresholds for k ≥ 2 use √Δ_k, as the reference code does
  (``noise_aggregator.rs``); its README writes √Δ_1, but only √Δ_k gives η_k its stated
  meaning (about η_k/2 of the zero-count candidates of length k survive).
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Any, Literal

from dpshowcase.errors import InternalError, ParameterError

__all__ = [
    "DELTA_THRESHOLD_SHARE",
    "MAX_EPSILON",
    "RECORD_COUNT_EPSILON",
    "BudgetPlan",
    "DpParameters",
    "MarginalModelBudget",
    "RhoAccount",
    "check_delta_for_count",
    "edge_quantile_epsilon",
    "gaussian_rho",
    "gaussian_sigma",
    "infer_delta",
    "plan_budget",
    "plan_marginal_model_budget",
    "record_count_warning",
    "reference_rho",
    "selection_epsilon",
    "selection_rho",
    "value_threshold",
    "zcdp_delta",
    "zcdp_epsilon",
    "zcdp_rho",
]

DELTA_THRESHOLD_SHARE = 0.5
"""Share of δ spent on the single-attribute threshold ρ_1; the rest converts zCDP.

Fixed at 1/2 as in the reference (its ρ formula uses ln(2/δ), its ρ_1 uses δ/2)."""

MAX_EPSILON = 20.0
"""Above this total ε the guarantee says next to nothing (e^20 ≈ 5·10^8): refused unless
the user passes ``allow_large_epsilon``."""

RECORD_COUNT_EPSILON = 0.1
"""ε_N by default when ε ≥ 1; below that ε_N = 0.1·ε.

The record count gets discrete Laplace noise of scale 1/ε_N = 10, whose mean absolute
value is just under 10 records: under 2% of n from n = 500 on. The reference's 0.5% of ε
gave noise of scale 200 at ε = 1, so a table of 500 rows became 241 to 1,950 synthetic
records."""

RECORD_COUNT_WARNING_SHARE = 0.02
"""Warn when the record count's typical noise (1/ε_N) exceeds this share of the count."""

BALANCED_ADAPTIVE_FACTORS = (0.55, 1.0)
"""Default η_k: pac-synth's "balanced" fabrication mode (η_2 = 0.55, η_k = 1 for k ≥ 3)."""

_RELATIVE_SAFETY = 1e-12
"""Relative margin by which derived quantities are nudged toward more privacy."""

_STANDARD_NORMAL = NormalDist()

SigmaSplit = Literal["even", "favor-long"] | Sequence[float]
ThresholdChoice = Literal["adaptive"] | Sequence[float]
PrivacyUnit = Literal["record", "subject"]


# --------------------------------------------------------------------------------------
# zCDP ↔ (ε, δ)-DP
# --------------------------------------------------------------------------------------


def _check_positive_finite(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise ParameterError unless it is finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(f"{name} must be a number, got {value!r}.")
    if not math.isfinite(value) or value <= 0:
        raise ParameterError(f"{name} must be a positive finite number, got {value!r}.")
    return float(value)


def _check_delta(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise ParameterError unless 0 < value < 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(f"{name} must be a number, got {value!r}.")
    if not (0 < value < 1):
        raise ParameterError(f"{name} must be strictly between 0 and 1, got {value!r}.")
    return float(value)


def check_epsilon(value: object) -> float:
    """A total ε as a float: a positive finite number (the cap above 20 is DpParameters')."""
    return _check_positive_finite("epsilon", value)  # type: ignore[arg-type]


def check_delta(value: object) -> float:
    """A δ as a float: strictly between 0 and 1 (the cap of 1/n is DpParameters')."""
    return _check_delta("delta", value)  # type: ignore[arg-type]


def zcdp_delta(rho: float, epsilon: float) -> float:
    """δ such that ρ-zCDP implies (ε, δ)-DP, by Canonne–Kamath–Steinke 2020, Cor. 13.

    δ = inf_{α>1} exp((α−1)(αρ−ε)) / (α−1) · (1−1/α)^α. The exponent is convex in α
    (its second derivative is 2ρ + 1/(α(α−1)) > 0), so the minimiser is the root of its
    derivative (2α−1)ρ − ε + ln(1−1/α), found by bisection. Any α gives a valid bound, so
    numerical error can only overstate δ. The result is capped at 1.
    """
    rho = _check_positive_finite("rho", rho)
    if isinstance(epsilon, bool) or not math.isfinite(epsilon) or epsilon < 0:
        raise ParameterError(f"epsilon must be a finite number ≥ 0, got {epsilon!r}.")

    def log_delta(alpha: float) -> float:
        return (
            (alpha - 1.0) * (alpha * rho - epsilon)
            + alpha * math.log1p(-1.0 / alpha)
            - math.log(alpha - 1.0)
        )

    def slope(alpha: float) -> float:
        return (2.0 * alpha - 1.0) * rho - epsilon + math.log1p(-1.0 / alpha)

    # slope → −∞ as α → 1⁺; at α = (ε+1)/(2ρ) + 2 it is ≥ ε + 1 + 3ρ − ε − 1 > 0
    # because ln(1 − 1/α) ≥ −1/(α−1) ≥ −1 for α ≥ 2.
    low, high = 1.0, (epsilon + 1.0) / (2.0 * rho) + 2.0
    for _ in range(2200):
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        if slope(middle) < 0:
            low = middle
        else:
            high = middle
    alpha = high if high > 1.0 else 1.0 + 1e-12
    value = log_delta(alpha)
    return 1.0 if value >= 0 else math.exp(value)


def zcdp_epsilon(rho: float, delta: float) -> float:
    """Smallest ε (rounded up) with ρ-zCDP ⇒ (ε, δ)-DP under the CKS 2020 conversion.

    Bisection on ε of :func:`zcdp_delta`, which decreases in ε; the returned ε always
    satisfies ``zcdp_delta(rho, ε) ≤ delta``. Agrees with OpenDP's
    ``make_zCDP_to_approxDP(...).map(d_in).epsilon(delta)`` (checked in the tests), e.g.
    ε(ρ=2, δ=1e-6) = 11.6886 and ε(ρ=0.5, δ=1e-6) = 5.2215.
    """
    rho = _check_positive_finite("rho", rho)
    delta = _check_delta("delta", delta)
    if zcdp_delta(rho, 0.0) <= delta:
        return 0.0
    low = 0.0
    # Bun–Steinke 2016 Prop. 1.3 (ε = ρ + 2√(ρ ln(1/δ))) is valid, so it is feasible.
    high = rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta))
    while zcdp_delta(rho, high) > delta:  # pragma: no cover - guards float surprises
        high *= 2.0
    for _ in range(2200):
        middle = 0.5 * (low + high)
        if middle in (low, high):  # adjacent floats: high is the smallest feasible ε
            break
        if zcdp_delta(rho, middle) > delta:
            low = middle
        else:
            high = middle
    return high


@functools.lru_cache(maxsize=256)
def zcdp_rho(epsilon: float, delta: float) -> float:
    """Largest ρ (rounded down) such that ρ-zCDP ⇒ (ε, δ)-DP under the CKS 2020 conversion.

    Bisection on ρ, judging each candidate by :func:`zcdp_delta` (which increases in ρ);
    the returned ρ always satisfies ``zcdp_delta(ρ, epsilon) ≤ delta`` and hence
    ``zcdp_epsilon(ρ, delta) ≤ epsilon``. Example: ε = 3.98, δ = 1/(n ln n) at n = 10,000
    gives ρ ≈ 0.3725, where :func:`reference_rho` gives 0.2819.
    """
    epsilon = _check_positive_finite("epsilon", epsilon)
    delta = _check_delta("delta", delta)
    low, high = 0.0, epsilon  # ρ = 0 is trivially feasible; find an infeasible high end
    while zcdp_delta(high, epsilon) <= delta:
        low, high = high, 2.0 * high
    for _ in range(2200):
        middle = 0.5 * (low + high)
        if middle in (low, high):  # adjacent floats: low is the largest feasible ρ
            break
        if zcdp_delta(middle, epsilon) <= delta:
            low = middle
        else:
            high = middle
    # Float noise in the α search could make ε(ρ) exceed ε by an ulp; step down if so.
    while low > 0.0 and zcdp_epsilon(low, delta) > epsilon:
        low = math.nextafter(low, 0.0)
    if low <= 0.0:  # pragma: no cover - unreachable for ε > 0 and δ > 0
        raise InternalError("no rho > 0 converts to the asked (epsilon, delta); this is a bug.")
    return low


def reference_rho(epsilon_marginals: float, delta: float) -> float:
    """ρ the reference (synthetic-data-showcase) spends: (√(ε_M + ln(2/δ)) − √ln(2/δ))².

    This is Bun–Steinke 2016 Prop. 1.3 (ρ-zCDP ⇒ (ρ + 2√(ρ ln(1/δ')), δ')-DP) inverted
    at δ' = δ/2. It is looser than :func:`zcdp_rho`; it is kept only to report how much
    budget the tight conversion saves. Never use it to calibrate noise here.
    """
    epsilon_marginals = _check_positive_finite("epsilon_marginals", epsilon_marginals)
    delta = _check_delta("delta", delta)
    log_term = math.log(2.0 / delta)
    root = math.sqrt(epsilon_marginals + log_term) - math.sqrt(log_term)
    return root * root


def infer_delta(record_count: int) -> float:
    """δ = 1/(n·ln n) for n protected (or public) records, the reference's default.

    It needs n ≥ 3: below that 1/(n ln n) is not below 1/n (a δ that large allows
    publishing a whole record), and at n = 1 it is undefined.
    """
    if isinstance(record_count, bool) or not isinstance(record_count, numbers.Integral):
        raise ParameterError(f"The record count must be an integer, got {record_count!r}.")
    record_count = int(record_count)
    if record_count < 3:
        raise ParameterError(
            f"Cannot infer delta from a record count of {record_count}: 1/(n·ln n) needs at "
            "least 3 records to be below 1/n; give delta explicitly (the noisy count can be "
            "this small only for tiny data or a tiny epsilon)."
        )
    return 1.0 / (record_count * math.log(record_count))


def check_delta_for_count(delta: float | None, record_count: int, *, allow: bool) -> None:
    """Refuse δ > 1/n (n records) unless ``allow``: such a δ voids the guarantee.

    (ε, δ)-DP with δ ≥ 1/n is met by a mechanism that publishes one record in n whole,
    so the guarantee would promise nothing about any single record.
    """
    if delta is None or allow or record_count < 1 or delta <= 1.0 / record_count:
        return
    raise ParameterError(
        f"δ = {delta:g} is above 1/n = {1.0 / record_count:.2g} for the {record_count:,} "
        "(protected) records, which would allow publishing whole records; lower delta (or "
        "leave it out for 1/(n·ln n)), or pass --allow-large-delta if you accept that (the "
        "release will say so)."
    )


def edge_quantile_epsilon(params: DpParameters, quantiles: int) -> float:
    """Pure ε of each of ``quantiles`` DP quantiles that choose bin edges from the data.

    ε_E is split evenly; the quantiles compose by adding their ε's (basic composition of
    pure DP), so together they spend exactly ε_E. Each reads one value per record, so
    adding or removing a record changes its input by one element.
    """
    if isinstance(quantiles, bool) or not isinstance(quantiles, int) or quantiles < 1:
        raise ParameterError(f"quantiles must be a whole number ≥ 1, got {quantiles!r}.")
    if params.edges_epsilon <= 0:
        raise ParameterError(
            "Bin edges from the data need a share of epsilon (edges_epsilon_proportion, "
            "--dp-edges); none was given."
        )
    return params.edges_epsilon / quantiles * (1 - _RELATIVE_SAFETY)


def record_count_warning(epsilon_record_count: float, record_count: int) -> str | None:
    """One sentence when the record count's noise is large relative to the count, else None.

    The typical error of the discrete Laplace noise of scale 1/ε_N is about 1/ε_N records;
    it is "large" above :data:`RECORD_COUNT_WARNING_SHARE` of the (protected) count. Uses
    only public figures (ε_N and the protected count).
    """
    if epsilon_record_count <= 0:
        return None
    typical = 1.0 / epsilon_record_count
    if typical <= RECORD_COUNT_WARNING_SHARE * max(record_count, 1):
        return None
    return (
        f"The number of records is protected with noise of about ±{typical:,.0f}, which is "
        f"{typical / max(record_count, 1):.0%} of the protected count {record_count:,}, so the "
        "number of synthetic records is that uncertain; raise epsilon, give the count a "
        "larger share (number_of_records_epsilon_proportion), or declare it public "
        "(--record-count-public) if it is public knowledge."
    )


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------


def _as_float_tuple(name: str, values: Any) -> tuple[float, ...]:
    """Return ``values`` as a tuple of finite floats, or raise ParameterError."""
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ParameterError(f"{name} must be a list of numbers, got {values!r}.")
    result = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ParameterError(f"{name} must hold only numbers, got {value!r}.")
        if not math.isfinite(value):
            raise ParameterError(f"{name} must hold only finite numbers, got {value!r}.")
        result.append(float(value))
    return tuple(result)


@dataclass(frozen=True, kw_only=True)
class DpParameters:
    """What a user asks of a DP-marginals release; validated on construction.

    Every bad value raises :class:`~dpshowcase.errors.ParameterError` with one plain
    sentence. Lists are stored as tuples so the object stays immutable and hashable.
    """

    epsilon: float
    """Total privacy-loss budget ε of the release (> 0, finite)."""

    delta: float | None = None
    """δ of the guarantee, in (0, 1); None infers 1/(n·ln n) from the record count n."""

    reporting_length: int = 3
    """R: the longest attribute combination whose count is released (≥ 1)."""

    number_of_records_epsilon_proportion: float | None = None
    """Share of ε for the protected record count, in [0, 1); ignored (0) when the count
    is declared public through ``record_count_public``. None: ε_N =
    :data:`RECORD_COUNT_EPSILON`·min(1, ε), so the count's noise stays under 2% of n
    from n = 500 on whenever ε ≥ 1."""

    percentile_percentage: float | None = 99.0
    """Percentile (0, 100] of per-record combination counts that sets the allowed
    sensitivity Δ_k; None disables the DP percentile — Δ_k must then be public bounds
    (e.g. the number of k-subsets of columns) and no budget is spent on it."""

    percentile_epsilon_proportion: float = 0.1
    """Q_p: share of ρ for the R DP percentiles, in [0, 1); ignored (0) when the
    percentile is disabled. Must be > 0 when it is enabled."""

    sigma_proportions: SigmaSplit = "even"
    """How ρ splits across lengths, as σ_k = p_k·σ: "even" (p_k = 1), "favor-long"
    (p_k = 1/k: longer combinations get less noise per unit of sensitivity), or R
    explicit proportions p_1..p_R, each > 0."""

    thresholds: ThresholdChoice = "adaptive"
    """Thresholds ρ_k for k ≥ 2: "adaptive" (from ``adaptive_factors``) or R − 1 fixed
    values ≥ 0 for k = 2..R. ρ_1 is never chosen: the guarantee fixes it."""

    adaptive_factors: float | Sequence[float] | None = None
    """η_k in (0, 1] for k = 2..R (one number for all, or R − 1 numbers): about η_k/2 of
    the zero-count candidates of length k survive; smaller means less fabrication but
    more suppression. None is pac-synth's "balanced" mode (η_2 = 0.55, η_k = 1 for k ≥ 3)."""

    record_count_public: int | None = None
    """The record count, when the user declares it public knowledge: it is then released
    without noise, ε_N = 0, and the release says so. None protects it with ε_N."""

    record_count_from_marginals: bool = False
    """AIM and MST only: no budget of its own for the record count (ε_N = 0); the
    protected count is estimated afterwards from the noisy 1-way marginals they measure
    anyway (post-processing), as AIM's reference code does. Needs δ given (an inferred
    δ needs the count first) and the count not declared public."""

    privacy_unit: PrivacyUnit = "record"
    """What neighbouring datasets differ by: one "record", or one "subject" when the
    schema names a subject id and a subject's rows were merged first."""

    edges_epsilon_proportion: float = 0.0
    """Share of ε, in [0, 1), for choosing the bin edges of numeric columns whose edges
    would otherwise come from the data (quantiles, or edges inferred from the data): ε_E,
    split evenly over the DP quantiles asked (pure DP each). 0: no such column may be
    released."""

    allow_large_epsilon: bool = False
    """Accept ε above :data:`MAX_EPSILON` (the release then says so)."""

    allow_large_delta: bool = False
    """Accept δ above 1/n, n the protected record count (the release then says so): with
    such a δ a mechanism may publish a whole record and still meet the guarantee."""

    def __post_init__(self) -> None:
        """Validate every field and normalise lists to tuples."""
        _check_positive_finite("epsilon", self.epsilon)
        for flag in ("allow_large_epsilon", "allow_large_delta"):
            if not isinstance(getattr(self, flag), bool):
                raise ParameterError(f"{flag} must be true or false, got {getattr(self, flag)!r}.")
        if self.epsilon > MAX_EPSILON and not self.allow_large_epsilon:
            raise ParameterError(
                f"ε = {self.epsilon:g} is above {MAX_EPSILON:g}, where the guarantee protects "
                "next to nothing; lower epsilon, or pass --allow-large-epsilon if you accept "
                "that (the release will say so)."
            )
        if self.delta is not None:
            _check_delta("delta", self.delta)
        r = self.reporting_length
        if isinstance(r, bool) or not isinstance(r, numbers.Integral) or r < 1:
            raise ParameterError(f"reporting_length must be an integer ≥ 1, got {r!r}.")
        object.__setattr__(self, "reporting_length", int(r))
        if self.number_of_records_epsilon_proportion is not None:
            self._check_share("number_of_records_epsilon_proportion")
        self._check_share("percentile_epsilon_proportion")
        self._check_share("edges_epsilon_proportion")
        self._check_record_count()
        if self.record_count_epsilon + self.edges_epsilon >= self.epsilon:
            raise ParameterError(
                "The shares of epsilon for the record count and the bin edges leave nothing "
                "for the counts of combinations; lower them."
            )
        self._check_percentile()
        self._check_sigma_proportions()
        self._check_thresholds()
        if self.privacy_unit not in ("record", "subject"):
            raise ParameterError(
                f'privacy_unit must be "record" or "subject", got {self.privacy_unit!r}.'
            )

    def _check_share(self, name: str) -> None:
        value = getattr(self, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ParameterError(f"{name} must be a number, got {value!r}.")
        if not (0 <= float(value) < 1):
            raise ParameterError(f"{name} must be in [0, 1), got {value!r}.")
        object.__setattr__(self, name, float(value))

    def _check_record_count(self) -> None:
        count = self.record_count_public
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0
        ):
            raise ParameterError(
                f"record_count_public must be a whole number ≥ 0 or None, got {count!r}."
            )
        if count is not None:
            object.__setattr__(self, "record_count_public", int(count))
            check_delta_for_count(self.delta, int(count), allow=self.allow_large_delta)
        if not isinstance(self.record_count_from_marginals, bool):
            raise ParameterError(
                "record_count_from_marginals must be true or false, got "
                f"{self.record_count_from_marginals!r}."
            )
        if self.record_count_from_marginals:
            if count is not None or self.number_of_records_epsilon_proportion is not None:
                raise ParameterError(
                    "record_count_from_marginals estimates the record count from the "
                    "marginals; it cannot go with a public count or a share of epsilon for "
                    "the count. Keep one of them."
                )
            if self.delta is None:
                raise ParameterError(
                    "record_count_from_marginals needs delta given: an inferred delta needs "
                    "the record count before the marginals are measured."
                )
            return
        if count is None and self.number_of_records_epsilon_proportion == 0:
            raise ParameterError(
                "number_of_records_epsilon_proportion is 0 but the record count is not "
                "declared public; give it a share of epsilon or set record_count_public."
            )

    def _check_percentile(self) -> None:
        percentile = self.percentile_percentage
        if percentile is None:
            return
        if isinstance(percentile, bool) or not isinstance(percentile, numbers.Real):
            raise ParameterError(f"percentile_percentage must be a number, got {percentile!r}.")
        if not (0 < percentile <= 100):
            raise ParameterError(f"percentile_percentage must be in (0, 100], got {percentile!r}.")
        if self.percentile_epsilon_proportion == 0:
            raise ParameterError(
                "percentile_epsilon_proportion is 0 but a DP percentile was asked; give it a "
                "share or set percentile_percentage=None to use public sensitivity bounds."
            )

    def _check_sigma_proportions(self) -> None:
        split = self.sigma_proportions
        if isinstance(split, str):
            if split not in ("even", "favor-long"):
                raise ParameterError(
                    'sigma_proportions must be "even", "favor-long" or a list of '
                    f"{self.reporting_length} numbers, got {split!r}."
                )
            return
        values = _as_float_tuple("sigma_proportions", split)
        if len(values) != self.reporting_length:
            raise ParameterError(
                f"sigma_proportions must hold one number per length (reporting_length = "
                f"{self.reporting_length}), got {len(values)}."
            )
        if any(value <= 0 for value in values):
            raise ParameterError(f"sigma_proportions must all be > 0, got {list(values)}.")
        object.__setattr__(self, "sigma_proportions", values)

    def _check_thresholds(self) -> None:
        longer = self.reporting_length - 1
        choice = self.thresholds
        if isinstance(choice, str):
            if choice != "adaptive":
                raise ParameterError(
                    f'thresholds must be "adaptive" or a list of {longer} fixed values for '
                    f"lengths 2..{self.reporting_length}, got {choice!r}."
                )
        else:
            values = _as_float_tuple("thresholds", choice)
            if len(values) != longer:
                raise ParameterError(
                    f"thresholds must hold one fixed value per length 2..R ({longer} "
                    f"values for reporting_length = {self.reporting_length}), got {len(values)}."
                )
            if any(value < 0 for value in values):
                raise ParameterError(f"Fixed thresholds must all be ≥ 0, got {list(values)}.")
            object.__setattr__(self, "thresholds", values)
        factors = self.adaptive_factors
        if factors is None:
            return
        if isinstance(factors, numbers.Real) and not isinstance(factors, bool):
            values = (float(factors),) * longer
        else:
            values = _as_float_tuple("adaptive_factors", factors)
            if len(values) != longer:
                raise ParameterError(
                    f"adaptive_factors must be one number or {longer} numbers (lengths "
                    f"2..{self.reporting_length}), got {len(values)}."
                )
        if any(not (0 < value <= 1) for value in values):
            raise ParameterError(f"adaptive_factors must all be in (0, 1], got {list(values)}.")
        object.__setattr__(self, "adaptive_factors", values)

    @property
    def sigma_proportion_values(self) -> tuple[float, ...]:
        """The proportions p_1..p_R that ``sigma_proportions`` stands for."""
        split = self.sigma_proportions
        if split == "even":
            return (1.0,) * self.reporting_length
        if split == "favor-long":
            return tuple(1.0 / k for k in range(1, self.reporting_length + 1))
        return tuple(split)

    @property
    def adaptive_factor_values(self) -> tuple[float, ...]:
        """η_2..η_R in use (the "balanced" default when none were given)."""
        if self.adaptive_factors is None:
            longer = self.reporting_length - 1
            return tuple(BALANCED_ADAPTIVE_FACTORS[min(i, 1)] for i in range(longer))
        if isinstance(self.adaptive_factors, float):  # pragma: no cover - normalised
            return (self.adaptive_factors,) * (self.reporting_length - 1)
        return tuple(self.adaptive_factors)

    @property
    def record_count_epsilon(self) -> float:
        """ε_N: the budget to protect the record count (0 when declared public or
        estimated from the marginals)."""
        if self.record_count_public is not None or self.record_count_from_marginals:
            return 0.0
        if self.number_of_records_epsilon_proportion is None:
            return RECORD_COUNT_EPSILON * min(1.0, float(self.epsilon))
        return self.number_of_records_epsilon_proportion * self.epsilon

    @property
    def edges_epsilon(self) -> float:
        """ε_E: the budget to choose data-derived bin edges with DP (0 when none)."""
        return float(self.edges_epsilon_proportion) * float(self.epsilon)

    @property
    def percentile_share(self) -> float:
        """Q_p in use: 0 when the DP percentile is disabled."""
        if self.percentile_percentage is None:
            return 0.0
        return float(self.percentile_epsilon_proportion)

    def check_columns(self, column_count: int) -> None:
        """Raise ParameterError if R exceeds the number of columns of the data."""
        if self.reporting_length > column_count:
            raise ParameterError(
                f"reporting_length is {self.reporting_length} but the data have only "
                f"{column_count} columns; a combination takes at most one value per column."
            )


# --------------------------------------------------------------------------------------
# Plan
# --------------------------------------------------------------------------------------


def _allowed_clauses(large_epsilon: bool, large_delta: bool) -> str:
    """What the guarantee sentence adds when the user allowed a guarantee-voiding value."""
    clauses = ""
    if large_epsilon:
        clauses += (
            f"; ε is above {MAX_EPSILON:g}, allowed by the user (--allow-large-epsilon), "
            "and at such an ε the guarantee protects next to nothing"
        )
    if large_delta:
        clauses += (
            "; δ is above 1/n, allowed by the user (--allow-large-delta), and at such a δ "
            "the guarantee does not rule out publishing whole records"
        )
    return clauses


def _short(value: float) -> str:
    """A compact rendering of a budget figure for the guarantee sentence."""
    return f"{value:.3g}"


@dataclass(frozen=True, kw_only=True)
class BudgetPlan:
    """The complete privacy accounting of one DP-marginals release (see module docstring).

    Per-length tuples are indexed by length − 1. Thresholds and noise scales need the
    allowed sensitivities Δ_k, which are only known while aggregating (each comes from a
    DP percentile over the candidates that survived the previous length); ask
    :meth:`noise_scale` and :meth:`threshold` for them then.
    """

    epsilon: float
    """Total ε of the guarantee (ε_N + ε_M)."""
    epsilon_record_count: float
    """ε_N spent on the record count (0 when the count is declared public)."""
    epsilon_marginals: float
    """ε_M the marginals are (ε_M, δ_conversion)-DP for."""
    epsilon_edges: float
    """ε_E spent on choosing bin edges from the data with DP quantiles (0 when none)."""
    delta: float
    """Total δ of the guarantee."""
    delta_inferred: bool
    """True when δ was set to 1/(n·ln n) from ``record_count``."""
    delta_conversion: float
    """Part of δ used to convert the marginals' ρ-zCDP into (ε_M, ·)-DP."""
    delta_threshold: float
    """Part of δ covering single attributes unique to one record (pays for ρ_1)."""
    rho: float
    """ρ: zCDP of the marginals (percentiles plus noisy counts)."""
    rho_reference: float
    """What the reference's loose formula would spend for the same ε_M and δ (report only)."""
    percentile_percentage: float | None
    """Percentile of per-record combination counts (None: public Δ_k, no DP percentile)."""
    percentile_share: float
    """Q_p in use."""
    epsilon_percentile: float
    """ε_Q: pure DP of each of the R percentile selections (0 when disabled)."""
    sigma_proportions: tuple[float, ...]
    """p_1..p_R."""
    sigmas: tuple[float, ...]
    """σ_1..σ_R; the noise at length k has scale σ_k·√Δ_k."""
    rho_by_length: tuple[float, ...]
    """ρ_k = 1/(2σ_k²) spent by the noisy counts of each length."""
    threshold_mode: Literal["adaptive", "fixed"]
    """How ρ_2..ρ_R are chosen."""
    fixed_thresholds: tuple[float, ...]
    """ρ_2..ρ_R when fixed (empty otherwise)."""
    adaptive_factors: tuple[float, ...]
    """η_2..η_R when adaptive (empty otherwise)."""
    record_count: int | None
    """Record count that δ was inferred from or that was declared public (None if unused)."""
    record_count_public: bool
    """True when the user declared the record count public (no noise, ε_N = 0)."""
    privacy_unit: PrivacyUnit
    """What neighbouring datasets differ by ("record" or "subject")."""
    large_epsilon_allowed: bool = False
    """True when ε is above :data:`MAX_EPSILON` and the user allowed it."""
    large_delta_allowed: bool = False
    """True when δ is above 1/n and the user allowed it."""
    reporting_length: int = field(init=False)
    """R."""

    def __post_init__(self) -> None:
        """Derive R and check the plan's books balance (a failure is a bug)."""
        object.__setattr__(self, "reporting_length", len(self.sigmas))
        spent = self.rho_spent
        if spent > self.rho * (1 + 1e-9) or not math.isfinite(spent):
            raise InternalError(f"privacy plan overspends: {spent!r} > rho {self.rho!r}.")
        if zcdp_delta(spent, self.epsilon_marginals) > self.delta_conversion * (1 + 1e-9):
            raise InternalError("privacy plan does not convert to its stated (ε_M, δ).")

    @property
    def rho_spent(self) -> float:
        """R·ε_Q²/2 + Σ_k 1/(2σ_k²): the zCDP actually spent, never more than ρ."""
        return self.reporting_length * self.epsilon_percentile**2 / 2 + sum(self.rho_by_length)

    def _check_length(self, length: int) -> None:
        if isinstance(length, bool) or not isinstance(length, int):
            raise ParameterError(f"length must be an integer, got {length!r}.")
        if not (1 <= length <= self.reporting_length):
            raise ParameterError(
                f"length must be between 1 and {self.reporting_length}, got {length}."
            )

    @staticmethod
    def _check_sensitivity(sensitivity: int) -> None:
        if isinstance(sensitivity, bool) or not isinstance(sensitivity, int) or sensitivity < 1:
            raise ParameterError(
                f"The allowed sensitivity must be an integer ≥ 1, got {sensitivity!r}; at "
                "sensitivity 0 no combination of that length is released."
            )

    def noise_scale(self, length: int, sensitivity: int) -> float:
        """σ_k·√Δ_k: the discrete Gaussian scale for every count of length k."""
        self._check_length(length)
        self._check_sensitivity(sensitivity)
        return self.sigmas[length - 1] * math.sqrt(sensitivity)

    def threshold(self, length: int, sensitivity: int) -> float:
        """ρ_k: a noisy count of length k is released only if it is > ρ_k.

        * k = 1 (fixed by the guarantee): ρ_1 = 1 + ⌈σ_1√Δ_1·Φ⁻¹((1 − δ_t)^(1/Δ_1))⌉ with
          δ_t = ``delta_threshold``. The reference uses the same formula without the
          ceiling; the ceiling makes it hold for discrete Gaussian noise Z on integer
          counts: P[Z ≥ m] ≤ P[N(0, s²) ≥ m − 1] (CKS 2020's tail bound), so each of the
          ≤ Δ_1 attributes only one record holds survives with probability at most
          1 − (1 − δ_t)^(1/Δ_1), and at least one survives with probability ≤ δ_t.
        * k ≥ 2, fixed: the user's value.
        * k ≥ 2, adaptive: σ_k√Δ_k·Φ⁻¹(1 − η_k/2) (0 when η_k = 1).
        """
        self._check_length(length)
        self._check_sensitivity(sensitivity)
        scale = self.noise_scale(length, sensitivity)
        if length == 1:
            tail = -math.expm1(math.log1p(-self.delta_threshold) / sensitivity)
            quantile = -_STANDARD_NORMAL.inv_cdf(tail)
            return 1.0 + math.ceil(scale * quantile * (1 + _RELATIVE_SAFETY))
        if self.threshold_mode == "fixed":
            return self.fixed_thresholds[length - 2]
        eta = self.adaptive_factors[length - 2]
        if eta >= 1.0:
            return 0.0
        return scale * _STANDARD_NORMAL.inv_cdf(1.0 - eta / 2.0)

    def thresholds_for(self, sensitivities: Sequence[int]) -> tuple[float, ...]:
        """ρ_1..ρ_R for allowed sensitivities Δ_1..Δ_R (see :meth:`threshold`)."""
        if len(sensitivities) != self.reporting_length:
            raise ParameterError(
                f"Need one sensitivity per length ({self.reporting_length}), got "
                f"{len(sensitivities)}."
            )
        return tuple(self.threshold(k, d) for k, d in enumerate(sensitivities, start=1))

    @property
    def guarantee(self) -> str:
        """The guarantee in one sentence, for the release's parameters.json and README."""
        head = (
            f"(ε={self.epsilon:g}, δ={self.delta:.2g})-differential privacy for each "
            f"{self.privacy_unit}"
        )
        parts = [
            f"ρ={_short(self.rho)} zCDP for the marginals, which is "
            f"(ε={_short(self.epsilon_marginals)}, δ={self.delta_conversion:.2g})-DP by the "
            "Canonne–Kamath–Steinke conversion",
            f"δ={self.delta_threshold:.2g} for the single-attribute threshold",
        ]
        if self.epsilon_edges > 0:
            parts.append(f"{_short(self.epsilon_edges)}-DP for bin edges chosen from the data")
        if self.record_count_public:
            parts.append("the record count was declared public and is published exactly")
        else:
            parts.append(f"{_short(self.epsilon_record_count)}-DP for the record count")
        sentence = f"{head} ({', '.join(parts[:-1])}, plus {parts[-1]})"
        allowed = _allowed_clauses(self.large_epsilon_allowed, self.large_delta_allowed)
        return sentence + allowed + "."

    def to_dict(self, sensitivities: Sequence[int] | None = None) -> dict[str, Any]:
        """Everything about the accounting, JSON-ready, for the release's parameters.json.

        With the allowed sensitivities Δ_1..Δ_R it also lists the noise scale and the
        threshold of each length.
        """
        lengths = []
        for k in range(1, self.reporting_length + 1):
            entry: dict[str, Any] = {
                "length": k,
                "sigma_proportion": self.sigma_proportions[k - 1],
                "sigma": self.sigmas[k - 1],
                "rho": self.rho_by_length[k - 1],
                "epsilon_percentile": self.epsilon_percentile,
            }
            if k >= 2 and self.threshold_mode == "adaptive":
                entry["adaptive_factor"] = self.adaptive_factors[k - 2]
            if sensitivities is not None:
                entry["sensitivity"] = int(sensitivities[k - 1])
                entry["noise_scale"] = self.noise_scale(k, int(sensitivities[k - 1]))
                entry["threshold"] = self.threshold(k, int(sensitivities[k - 1]))
            lengths.append(entry)
        return {
            "guarantee": self.guarantee,
            "privacy_unit": self.privacy_unit,
            "epsilon": self.epsilon,
            "epsilon_record_count": self.epsilon_record_count,
            "epsilon_marginals": self.epsilon_marginals,
            "epsilon_edges": self.epsilon_edges,
            "delta": self.delta,
            "delta_inferred": self.delta_inferred,
            "delta_conversion": self.delta_conversion,
            "delta_threshold": self.delta_threshold,
            "rho": self.rho,
            "rho_spent": self.rho_spent,
            "rho_reference_formula": self.rho_reference,
            "conversion": "Canonne-Kamath-Steinke 2020 Cor. 13 (tight zCDP to (eps, delta))",
            "reporting_length": self.reporting_length,
            "percentile_percentage": self.percentile_percentage,
            "percentile_epsilon_proportion": self.percentile_share,
            "threshold_mode": self.threshold_mode,
            "record_count": self.record_count,
            "record_count_public": self.record_count_public,
            "allow_large_epsilon": self.large_epsilon_allowed,
            "allow_large_delta": self.large_delta_allowed,
            "noise": "discrete Gaussian, scale sigma_k * sqrt(sensitivity_k)",
            "lengths": lengths,
        }


def plan_budget(params: DpParameters, record_count: int | None = None) -> BudgetPlan:
    """Turn ``params`` into the release's privacy accounting.

    ``record_count`` is the protected (noisy) record count — drawn first with
    ``params.record_count_epsilon`` — and is needed only when δ is inferred. When the
    count is declared public, ``params.record_count_public`` is used instead. (The
    inferred δ then depends on an ε_N-DP output; the stated δ is the one used.)
    """
    if not isinstance(params, DpParameters):
        raise ParameterError(f"params must be DpParameters, got {type(params).__name__}.")
    public = params.record_count_public
    if public is not None and record_count is not None and record_count != public:
        raise ParameterError(
            f"record_count ({record_count}) differs from the declared public count ({public})."
        )
    count = public if public is not None else record_count
    if params.delta is not None:
        delta, inferred = float(params.delta), False
        if count is not None:
            check_delta_for_count(delta, count, allow=params.allow_large_delta)
    elif count is None:
        raise ParameterError(
            "delta was not given, so the protected record count is needed to infer it."
        )
    else:
        delta, inferred = infer_delta(count), True

    epsilon = float(params.epsilon)
    epsilon_n = params.record_count_epsilon
    epsilon_e = params.edges_epsilon
    epsilon_m = epsilon - epsilon_n - epsilon_e
    delta_threshold = DELTA_THRESHOLD_SHARE * delta
    delta_conversion = delta - delta_threshold
    rho = zcdp_rho(epsilon_m, delta_conversion)

    r = params.reporting_length
    q_p = params.percentile_share
    epsilon_q = math.sqrt(2.0 * rho * q_p / r) * (1 - _RELATIVE_SAFETY) if q_p > 0 else 0.0
    proportions = params.sigma_proportion_values
    inverse_squares = sum(1.0 / (p * p) for p in proportions)
    base_sigma = math.sqrt(inverse_squares / (2.0 * rho * (1.0 - q_p))) * (1 + _RELATIVE_SAFETY)
    sigmas = tuple(p * base_sigma for p in proportions)
    rho_by_length = tuple(1.0 / (2.0 * s * s) for s in sigmas)

    if isinstance(params.thresholds, str):
        mode: Literal["adaptive", "fixed"] = "adaptive"
        fixed: tuple[float, ...] = ()
        factors = params.adaptive_factor_values
    else:
        mode, fixed, factors = "fixed", tuple(params.thresholds), ()

    return BudgetPlan(
        epsilon=epsilon,
        epsilon_record_count=epsilon_n,
        epsilon_marginals=epsilon_m,
        epsilon_edges=epsilon_e,
        delta=delta,
        delta_inferred=inferred,
        delta_conversion=delta_conversion,
        delta_threshold=delta_threshold,
        rho=rho,
        rho_reference=reference_rho(epsilon_m, delta),
        percentile_percentage=(
            None if params.percentile_percentage is None else float(params.percentile_percentage)
        ),
        percentile_share=q_p,
        epsilon_percentile=epsilon_q,
        sigma_proportions=proportions,
        sigmas=sigmas,
        rho_by_length=rho_by_length,
        threshold_mode=mode,
        fixed_thresholds=fixed,
        adaptive_factors=factors,
        record_count=count,
        record_count_public=public is not None,
        privacy_unit=params.privacy_unit,
        large_epsilon_allowed=epsilon > MAX_EPSILON,
        large_delta_allowed=count is not None and count >= 1 and delta > 1.0 / count,
    )


# --------------------------------------------------------------------------------------
# Marginal-model releases (AIM, MST): adaptive measurements under one ρ
# --------------------------------------------------------------------------------------
#
# The same (ε, δ) split as the DP-marginals release: ε_N for the record count (pure DP;
# none with ``record_count_from_marginals``, where the count is estimated afterwards),
# δ/2 for the threshold that discovers each column's values (a value held by one record
# survives with probability at most δ/2), δ/2 for converting the measurements' ρ-zCDP to
# (ε_M, δ/2)-DP. Inside ρ the mechanisms spend, by zCDP's additive composition:
#
# * a discrete Gaussian measurement of a vector of counts with L2 sensitivity Δ and
#   scale σ: Δ²/(2σ²) (Canonne–Kamath–Steinke 2020); one marginal (every cell of a set
#   of columns) has Δ = 1 when one record is added or removed, the 1-way marginals of
#   all d columns together have Δ = √d;
# * an exponential-mechanism selection (report-noisy-max with Gumbel noise) that is
#   ε_s-DP: ε_s²/8 (Cesar–Rogers 2021, bounded range), as AIM's paper counts it.


def gaussian_rho(sigma: float, sensitivity: float = 1.0) -> float:
    """ρ of a discrete Gaussian measurement of scale σ with L2 sensitivity Δ: Δ²/(2σ²)."""
    sigma = _check_positive_finite("sigma", sigma)
    sensitivity = _check_positive_finite("sensitivity", sensitivity)
    return sensitivity * sensitivity / (2.0 * sigma * sigma)


def gaussian_sigma(rho: float, sensitivity: float = 1.0) -> float:
    """The smallest σ (rounded up) whose measurement costs at most ``rho``: Δ/√(2ρ)."""
    rho = _check_positive_finite("rho", rho)
    return sensitivity / math.sqrt(2.0 * rho) * (1 + _RELATIVE_SAFETY)


def selection_rho(epsilon: float) -> float:
    """ρ of an ε-DP exponential-mechanism selection: ε²/8 (bounded range)."""
    epsilon = _check_positive_finite("epsilon", epsilon)
    return epsilon * epsilon / 8.0


def selection_epsilon(rho: float) -> float:
    """The largest ε (rounded down) of a selection that costs at most ``rho``: √(8ρ)."""
    rho = _check_positive_finite("rho", rho)
    return math.sqrt(8.0 * rho) * (1 - _RELATIVE_SAFETY)


def value_threshold(sigma: float, columns: int, delta_threshold: float) -> float:
    """Noisy 1-way counts must exceed this for a value to join a column's domain.

    The candidates are the values seen in the data, so a record may bring up to
    ``columns`` values nobody else holds; with discrete Gaussian noise of scale σ each
    survives with probability ≤ 1 − (1 − δ_t)^(1/d) and any of them with probability
    ≤ δ_t — the same formula (and rounding) as :meth:`BudgetPlan.threshold` at k = 1.
    """
    sigma = _check_positive_finite("sigma", sigma)
    delta_threshold = _check_delta("delta_threshold", delta_threshold)
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise ParameterError(f"columns must be an integer ≥ 1, got {columns!r}.")
    tail = -math.expm1(math.log1p(-delta_threshold) / columns)
    quantile = -_STANDARD_NORMAL.inv_cdf(tail)
    return 1.0 + math.ceil(sigma * quantile * (1 + _RELATIVE_SAFETY))


@dataclass(frozen=True)
class RhoSpend:
    """One measurement or selection and the ρ it cost."""

    what: str
    rho: float


class RhoAccount:
    """The running ρ-zCDP account of an adaptive mechanism; it refuses to overspend.

    Every noisy measurement and every selection is charged here *before* it is drawn;
    :attr:`spent` is the sum, and :meth:`charge` raises InternalError rather than let it
    exceed the budget (by more than float rounding).
    """

    def __init__(self, budget: float) -> None:
        """Open an account holding ``budget`` (ρ)."""
        self.budget = _check_positive_finite("rho budget", budget)
        self.spends: list[RhoSpend] = []
        self.spent = 0.0

    @property
    def remaining(self) -> float:
        """ρ not yet spent (never below 0)."""
        return max(0.0, self.budget - self.spent)

    def charge(self, what: str, rho: float) -> None:
        """Record ``rho`` spent on ``what``; InternalError if the budget would be exceeded."""
        rho = _check_positive_finite("rho", rho)
        if self.spent + rho > self.budget * (1 + 1e-9):
            raise InternalError(
                f"{what} would spend ρ={rho:.6g} with only {self.remaining:.6g} left; "
                "this is a bug."
            )
        self.spent += rho
        self.spends.append(RhoSpend(what, rho))


@dataclass(frozen=True, kw_only=True)
class MarginalModelBudget:
    """The privacy accounting of an AIM or MST release (see the section comment above)."""

    synthesizer: str
    """"aim" or "mst"."""
    epsilon: float
    epsilon_record_count: float
    epsilon_marginals: float
    delta: float
    delta_inferred: bool
    delta_conversion: float
    delta_threshold: float
    rho: float
    """ρ-zCDP of every measurement and selection together."""
    record_count: int | None
    record_count_public: bool
    privacy_unit: PrivacyUnit
    large_epsilon_allowed: bool = False
    """True when ε is above :data:`MAX_EPSILON` and the user allowed it."""
    large_delta_allowed: bool = False
    """True when δ is above 1/n and the user allowed it."""
    record_count_estimated: bool = False
    """True when the record count had no budget of its own: it is estimated from the
    noisy 1-way marginals (post-processing; ``epsilon_record_count`` is 0)."""

    def __post_init__(self) -> None:
        """The books must balance: ρ converts to (ε_M, δ_conversion)."""
        if zcdp_delta(self.rho, self.epsilon_marginals) > self.delta_conversion * (1 + 1e-9):
            raise InternalError("marginal-model plan does not convert to its stated (ε_M, δ).")

    @property
    def guarantee(self) -> str:
        """The guarantee in one sentence."""
        head = (
            f"(ε={self.epsilon:g}, δ={self.delta:.2g})-differential privacy for each "
            f"{self.privacy_unit}"
        )
        if self.record_count_public:
            count = "the record count was declared public and is published exactly"
        elif self.record_count_estimated:
            count = (
                "the record count estimated from the noisy 1-way marginals, with no budget "
                "of its own"
            )
        else:
            count = f"{_short(self.epsilon_record_count)}-DP for the record count"
        return (
            f"{head} (ρ={_short(self.rho)} zCDP for the {self.synthesizer.upper()} "
            f"selections and measurements, which is (ε={_short(self.epsilon_marginals)}, "
            f"δ={self.delta_conversion:.2g})-DP by the Canonne–Kamath–Steinke conversion, "
            f"δ={self.delta_threshold:.2g} for the threshold on single values, plus {count})"
            + _allowed_clauses(self.large_epsilon_allowed, self.large_delta_allowed)
            + "."
        )

    def with_estimated_count(self, count: int, *, allow_large_delta: bool) -> MarginalModelBudget:
        """This budget with the record count estimated from the marginals (δ ≤ 1/n is
        checked against it, as against any protected count)."""
        if not self.record_count_estimated:
            raise InternalError("only an estimated record count can be set afterwards.")
        check_delta_for_count(self.delta, count, allow=allow_large_delta)
        return replace(
            self,
            record_count=count,
            large_delta_allowed=count >= 1 and self.delta > 1.0 / count,
        )

    @property
    def record_count_source(self) -> str:
        """Where the released record count comes from, in a few words."""
        if self.record_count_public:
            return "declared public"
        if self.record_count_estimated:
            return (
                "estimated from the noisy 1-way marginals (inverse-variance weighted mean "
                "of their totals; post-processing, no budget of its own)"
            )
        return f"discrete Laplace noise, epsilon {_short(self.epsilon_record_count)}"

    def to_dict(self, account: RhoAccount | None = None) -> dict[str, Any]:
        """JSON-ready accounting for parameters.json (with the spends when given)."""
        out: dict[str, Any] = {
            "guarantee": self.guarantee,
            "privacy_unit": self.privacy_unit,
            "epsilon": self.epsilon,
            "epsilon_record_count": self.epsilon_record_count,
            "epsilon_marginals": self.epsilon_marginals,
            "delta": self.delta,
            "delta_inferred": self.delta_inferred,
            "delta_conversion": self.delta_conversion,
            "delta_threshold": self.delta_threshold,
            "rho": self.rho,
            "conversion": "Canonne-Kamath-Steinke 2020 Cor. 13 (tight zCDP to (eps, delta))",
            "record_count": self.record_count,
            "record_count_public": self.record_count_public,
            "record_count_source": self.record_count_source,
            "allow_large_epsilon": self.large_epsilon_allowed,
            "allow_large_delta": self.large_delta_allowed,
            "noise": "discrete Gaussian measurements (OpenDP), Gumbel report-noisy-max "
            "selections (OpenDP)",
        }
        if account is not None:
            out["rho_spent"] = account.spent
            out["measurements_and_selections"] = len(account.spends)
        return out


def plan_marginal_model_budget(
    params: DpParameters, synthesizer: str, record_count: int | None = None
) -> MarginalModelBudget:
    """The (ε, δ) → ρ accounting of an AIM or MST release (``record_count`` as in
    :func:`plan_budget`: the protected count, needed only when δ is inferred; with
    ``params.record_count_from_marginals`` there is none yet: the mechanism estimates
    it from its 1-way marginals and records it with
    :meth:`MarginalModelBudget.with_estimated_count`)."""
    plan = plan_budget(params, record_count)
    return MarginalModelBudget(
        synthesizer=synthesizer,
        epsilon=plan.epsilon,
        epsilon_record_count=plan.epsilon_record_count,
        epsilon_marginals=plan.epsilon_marginals,
        delta=plan.delta,
        delta_inferred=plan.delta_inferred,
        delta_conversion=plan.delta_conversion,
        delta_threshold=plan.delta_threshold,
        rho=plan.rho,
        record_count=plan.record_count,
        record_count_public=plan.record_count_public,
        privacy_unit=plan.privacy_unit,
        large_epsilon_allowed=plan.large_epsilon_allowed,
        large_delta_allowed=plan.large_delta_allowed,
        record_count_estimated=params.record_count_from_marginals,
    )
