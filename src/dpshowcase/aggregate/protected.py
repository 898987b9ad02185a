"""Protected aggregates: the boundary between sensitive data and everything public.

A :class:`ProtectedAggregates` is what a protection mechanism (DP marginals or
k-anonymity) returns. It holds only protected counts, the attributes that survived
protection, the protected record count, the noise that protects them and the statement
of the guarantee. Synthesis, evaluation of a release and the dashboards take this
object, never sensitive records, so the guarantee carries over to everything derived
from it (post-processing).

The boundary is a type: a ``ProtectedAggregates`` cannot be built by calling the class.
Only :func:`issue_protected` makes one, and only the mechanisms call it
(``dpshowcase.privacy.marginals``, ``dpshowcase.privacy.aim`` and
``dpshowcase.kanon.protect``;
``tests/unit/aggregate/test_protected.py`` checks who imports it). Post-processing
derives new ones from protected ones with :meth:`ProtectedAggregates.derive`. Tests that
need aggregates without running a mechanism use the named bypass
:func:`dpshowcase.testing.protected_aggregates_for_tests`.
"""

from __future__ import annotations

import math
from dataclasses import InitVar, dataclass, field
from typing import Any, Literal

import numpy as np

from dpshowcase.aggregate.count import CombinationCounts
from dpshowcase.data.attributes import AttributeIndex
from dpshowcase.errors import InternalError

_ISSUED = object()
"""Held by this module only: proof that :func:`issue_protected` made the object."""

Protection = Literal["dp", "k-anonymity"]


@dataclass(frozen=True)
class LengthNoise:
    """The noise that protects the released counts of one combination length."""

    length: int
    """k: the combination length."""
    noise_scale: float
    """Standard deviation of the (discrete Gaussian) noise added to each count."""
    threshold: float
    """A noisy count is released only above this."""
    sensitivity: int
    """Δ_k: the most combinations of this length one record contributes."""

    def __post_init__(self) -> None:
        if not (isinstance(self.length, int) and self.length >= 1):
            raise TypeError(f"A combination length is a whole number ≥ 1, not {self.length!r}.")
        if not (math.isfinite(self.noise_scale) and self.noise_scale > 0):
            raise TypeError(f"A noise scale is a finite number above 0, not {self.noise_scale!r}.")
        if not math.isfinite(self.threshold):
            raise TypeError(f"A release threshold is a finite number, not {self.threshold!r}.")


@dataclass(frozen=True)
class NoiseDescription:
    """The noise of a DP release, length by length (what post-processing may weigh by)."""

    lengths: tuple[LengthNoise, ...]
    """One entry per length 1..R, in order."""

    def __post_init__(self) -> None:
        ks = [entry.length for entry in self.lengths]
        if ks != list(range(1, len(ks) + 1)):
            raise TypeError(f"The noise must describe lengths 1..R in order, not {ks}.")

    def scale(self, k: int) -> float:
        """The noise scale of length ``k``."""
        return self.lengths[k - 1].noise_scale

    def threshold(self, k: int) -> float:
        """The release threshold of length ``k``."""
        return self.lengths[k - 1].threshold


@dataclass(frozen=True, eq=False, kw_only=True)
class ProtectedAggregates:
    """Protected counts of attribute combinations and the guarantee that protects them.

    Made only by :func:`issue_protected` (a mechanism) or :meth:`derive` (post-processing).
    """

    counts: CombinationCounts
    """Protected counts; its attribute index lists only released attributes."""
    record_count: int
    """The protected (noisy, or declared public) number of records."""
    mode: Protection
    """Which protection produced the counts."""
    guarantee: str
    """The guarantee in one sentence."""
    parameters: dict[str, Any] = field(default_factory=dict)
    """Every parameter that produced the counts (for parameters.json)."""
    private: bool = True
    """False when noise was seeded (tests, demos): such output is not for release."""
    noise: NoiseDescription | None = None
    """DP: the noise of each length; None for k-anonymity (no noise)."""
    issued: InitVar[object] = None
    """The mechanism's proof of origin (see :func:`issue_protected`); not stored."""

    def __post_init__(self, issued: object) -> None:
        if issued is not _ISSUED:
            raise TypeError(
                "ProtectedAggregates come only out of a protection mechanism "
                "(DPMarginals.fit, k_anonymous_release) or, derived from protected ones, "
                "ProtectedAggregates.derive; tests use "
                "dpshowcase.testing.protected_aggregates_for_tests."
            )
        if not isinstance(self.counts, CombinationCounts):
            raise TypeError(f"counts must be CombinationCounts, not {type(self.counts).__name__}.")
        if self.mode not in ("dp", "k-anonymity"):
            raise TypeError(f"The protection must be 'dp' or 'k-anonymity', not {self.mode!r}.")
        if self.noise is not None and not isinstance(self.noise, NoiseDescription):
            raise TypeError(f"noise must be a NoiseDescription, not {type(self.noise).__name__}.")
        object.__setattr__(self, "record_count", int(self.record_count))

    @property
    def attributes(self) -> AttributeIndex:
        """The released attributes."""
        return self.counts.attributes

    @property
    def reporting_length(self) -> int:
        """R: the longest released combination."""
        return self.counts.reporting_length

    def single_attribute_counts(self) -> np.ndarray:
        """Protected count of each released attribute (0 where not released)."""
        out = np.zeros(self.attributes.n_attributes, dtype=np.int64)
        ones = self.counts.lengths == 1
        out[self.counts.combinations[ones, 0]] = self.counts.counts[ones]
        return out

    def derive(
        self,
        *,
        counts: CombinationCounts | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> ProtectedAggregates:
        """The same protection with new counts or parameters computed from these ones.

        Post-processing: whatever is computed from protected aggregates alone keeps their
        guarantee. The caller must not mix in anything sensitive.
        """
        return ProtectedAggregates(
            counts=self.counts if counts is None else counts,
            record_count=self.record_count,
            mode=self.mode,
            guarantee=self.guarantee,
            parameters=dict(self.parameters) if parameters is None else parameters,
            private=self.private,
            noise=self.noise,
            issued=_ISSUED,
        )


def issue_protected(
    *,
    counts: CombinationCounts,
    record_count: int,
    mode: Protection,
    guarantee: str,
    parameters: dict[str, Any],
    private: bool,
    noise: NoiseDescription | None = None,
) -> ProtectedAggregates:
    """The protected aggregates a mechanism has just made: for protection mechanisms only.

    The caller vouches that ``counts`` and ``record_count`` are protected as
    ``guarantee`` says. Only ``dpshowcase.privacy.marginals``, ``dpshowcase.privacy.aim``,
    ``dpshowcase.kanon.protect`` and the test bypass in ``dpshowcase.testing`` import
    this (a test checks it).
    """
    return ProtectedAggregates(
        counts=counts,
        record_count=record_count,
        mode=mode,
        guarantee=guarantee,
        parameters=parameters,
        private=private,
        noise=noise,
        issued=_ISSUED,
    )


def restrict_to_attributes(counts: CombinationCounts, keep: np.ndarray) -> CombinationCounts:
    """The same counts with an attribute index holding only the attributes in ``keep``.

    Every combination must use kept attributes only.
    """
    index, new_ids = counts.attributes.subset(keep)
    combos = counts.combinations.astype(np.int64)
    remapped = np.where(combos >= 0, new_ids[np.maximum(combos, 0)], -1)
    if np.any((combos >= 0) & (remapped < 0)):
        raise InternalError("a combination uses an attribute that is not kept")
    return CombinationCounts(
        attributes=index,
        combinations=remapped.astype(np.int32),
        lengths=counts.lengths,
        counts=counts.counts,
        reporting_length=counts.reporting_length,
    )
