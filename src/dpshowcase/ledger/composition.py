"""Adding up the privacy loss of the releases of one lineage, in zCDP.

Every DP release of dpshowcase is, by :mod:`dpshowcase.privacy.accounting`,

* ρ-zCDP for its marginals (percentiles and noisy counts),
* pure DP for everything else — the record count (ε_N), and bin edges chosen from the
  data when asked — of total ε_P = ε − ε_M, which is ε_P²/2-zCDP (Bun–Steinke 2016,
  Prop. 1.4),
* plus an additive failure probability δ_t for the single-attribute threshold, which
  lies outside zCDP (it is "approximate zCDP": Bun–Steinke 2016, Def. 1.8),

and states its own (ε, δ) with δ = δ_t + δ_c, δ_c being the δ at which its zCDP was
converted. So one release costs :class:`ReleaseLoss` (ρ_i = ρ + ε_P²/2, δ_t,i, δ_c,i).

The composition rule (stated in every datasheet and in ``dpshowcase ledger show``)
-------------------------------------------------------------------------------
* ρ adds: n releases are Σρ_i-zCDP (Bun–Steinke 2016, Lemma 2.3); the δ_t,i add too
  (each is the probability of a bad event outside the zCDP part, and a union bound
  over the releases adds them).
* Mixed δ: the cumulative δ is the sum of the releases' δ's, Σδ_i = Σδ_t,i + Σδ_c,i,
  unless a cap names its own δ; the cumulative ε at that δ is the CKS 2020 conversion
  (:func:`~dpshowcase.privacy.accounting.zcdp_epsilon`, the same tight conversion every
  release uses) of Σρ_i at δ − Σδ_t,i.
* Basic composition (Σε_i at Σδ_i) is also a valid bound; the smaller of the two is
  stated, so one release alone never shows more than its own ε.
* Without a cap's δ the ε stated never decreases from one release to the next: it is
  the largest of the ε's of the lineage's first 1, 2, …, n releases (each at its own
  summed δ). A larger ε at the same δ is still a true statement, and otherwise a release
  bringing much δ and little ρ could lower the stated ε — and slip under a cap of ε.

Releases that are not DP (k-anonymous, exact, seeded noise) are listed by the ledger but
carry no ρ: no DP statement can be made about them, and they are marked so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dpshowcase.errors import ParameterError
from dpshowcase.privacy.accounting import BudgetPlan, zcdp_epsilon

__all__ = ["COMPOSITION_RULE", "CumulativeLoss", "ReleaseLoss", "cumulative_loss"]

COMPOSITION_RULE = (
    "zCDP composition: the ρ of the releases add (each release's ρ includes ε_P²/2 for "
    "its pure-DP parts, the record count among them), their δ's add (the cumulative δ is "
    "the sum of the releases' δ, unless the cap names one), and the sum of ρ is converted "
    "to ε at the cumulative δ less the summed threshold δ's with the Canonne–Kamath–Steinke "
    "conversion every release uses; when the plain sum of the ε's is smaller at the same δ, "
    "that sum is stated instead; without a cap's δ, the ε stated never decreases from one "
    "release to the next."
)
"""The rule in one sentence, for datasheets and ``ledger show``."""


@dataclass(frozen=True, kw_only=True)
class ReleaseLoss:
    """What one DP release costs, in the terms composition needs."""

    rho: float
    """ρ_i: zCDP of the release (marginals' ρ plus ε_P²/2 for its pure-DP parts)."""
    delta_conversion: float
    """δ_c,i: the δ the release spent converting its zCDP to its stated ε."""
    delta_outside: float
    """δ_t,i: the failure probability outside zCDP (the single-attribute threshold)."""
    epsilon: float
    """ε_i: the release's own stated ε."""

    def __post_init__(self) -> None:
        """Every part is a finite number ≥ 0."""
        for name in ("rho", "delta_conversion", "delta_outside", "epsilon"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ParameterError(f"{name} of a release must be finite and ≥ 0, not {value!r}.")

    @property
    def delta(self) -> float:
        """δ_i = δ_t,i + δ_c,i: the release's own stated δ."""
        return self.delta_outside + self.delta_conversion

    @classmethod
    def from_plan(cls, plan: BudgetPlan) -> ReleaseLoss:
        """The loss of a release made by ``plan`` (known before any noise is drawn).

        Whatever of ε the marginals do not spend, ε_P = ε − ε_M, is pure DP (basic
        composition in the plan), hence ε_P²/2-zCDP.
        """
        pure = max(plan.epsilon - plan.epsilon_marginals, 0.0)
        return cls(
            rho=plan.rho + pure**2 / 2.0,
            delta_conversion=plan.delta_conversion,
            delta_outside=plan.delta_threshold,
            epsilon=plan.epsilon,
        )


@dataclass(frozen=True, kw_only=True)
class CumulativeLoss:
    """The privacy loss of a lineage so far."""

    releases: int
    """DP releases counted."""
    rho: float
    """Σρ_i."""
    delta_outside: float
    """Σδ_t,i."""
    delta: float
    """The cumulative δ the ε is stated at."""
    epsilon: float
    """The cumulative ε at ``delta`` (inf when ``delta`` does not exceed Σδ_t,i)."""

    @property
    def statement(self) -> str:
        """e.g. "(ε=6.1, δ=2e-06) over 2 DP releases (ρ=1.25 zCDP)"."""
        if self.releases == 0:
            return "no DP release yet (ε=0, δ=0)"
        epsilon = "∞" if math.isinf(self.epsilon) else f"{self.epsilon:.4g}"
        plural = "" if self.releases == 1 else "s"
        return (
            f"(ε={epsilon}, δ={self.delta:.3g}) over {self.releases} DP release{plural} "
            f"(ρ={self.rho:.4g} zCDP)"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "releases": self.releases,
            "rho": self.rho,
            "delta_outside_zcdp": self.delta_outside,
            "delta": self.delta,
            "epsilon": None if math.isinf(self.epsilon) else self.epsilon,
            "rule": COMPOSITION_RULE,
        }


def cumulative_loss(losses: Sequence[ReleaseLoss], delta: float | None = None) -> CumulativeLoss:
    """The loss of ``losses`` together (see the module docstring for the rule).

    ``delta``: the δ to state ε at (a cap's δ); None uses the sum of the releases' δ,
    and the ε of the largest prefix (so it never decreases as releases are added).
    """
    count = len(losses)
    if count == 0:
        return CumulativeLoss(
            releases=0, rho=0.0, delta_outside=0.0, delta=delta or 0.0, epsilon=0.0
        )
    if delta is not None:
        return _at_delta(losses, float(delta))
    epsilon = max(_at_delta(losses[:end], None).epsilon for end in range(1, count + 1))
    total = _at_delta(losses, None)
    return CumulativeLoss(
        releases=count,
        rho=total.rho,
        delta_outside=total.delta_outside,
        delta=total.delta,
        epsilon=epsilon,
    )


def _at_delta(losses: Sequence[ReleaseLoss], delta: float | None) -> CumulativeLoss:
    """The tighter of zCDP and basic composition at ``delta`` (None: the summed δ)."""
    rho = math.fsum(loss.rho for loss in losses)
    outside = math.fsum(loss.delta_outside for loss in losses)
    summed_delta = math.fsum(loss.delta for loss in losses)
    target = summed_delta if delta is None else delta
    candidates = [math.inf]
    conversion = target - outside
    if conversion >= 1.0:
        candidates.append(0.0)
    elif conversion > 0.0:
        candidates.append(zcdp_epsilon(rho, conversion) if rho > 0 else 0.0)
    if summed_delta <= target:
        candidates.append(math.fsum(loss.epsilon for loss in losses))
    return CumulativeLoss(
        releases=len(losses), rho=rho, delta_outside=outside, delta=target, epsilon=min(candidates)
    )
