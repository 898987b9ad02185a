"""What synthetic records may hold beyond the release, and how often.

The rule (stated in every datasheet): **no combination that was not released appears
in the synthetic data as often as its length's release threshold**, and no structural
zero of the schema appears at all.

A length whose threshold is 0 or below (triples in the default "balanced" mode, where
any candidate with a positive noisy count is released) would read "never": that
forbids every unreleased triple, though with the triples' large noise (σ₃ ≈ 300 on
ma2019 at ε = 1) a real triple counted in the hundreds is left out of the release a
third of the time; enforcing "never" on ma2019 at ε = 1 cleared 35,000 cells and
tripled the single-attribute error (a limit at the pair threshold, 71, still cleared
27,800 and doubled it). For such a length the rule's threshold is instead the
*detection count* τ_k + z·σ_k (z = :data:`DETECTION_Z`): a combination counted that
often is released with probability 95%, so a synthetic count that high claims
support the release all but rules out (ma2019, ε = 1: triples at most 492 times; the
rule then cleared 1,005 cells, with no measurable change in the errors). Where the
detection count is below one record (ε ≈ ∞) it sets no limit (see
:func:`unreleased_limits`).

A combination whose noisy count passed the threshold would have been released, so a
synthetic count at or above it would claim more support than the release gives; the
fit keeps unreleased combinations rare, and
:func:`enforce_limits` makes the rule hold exactly by clearing cells (a record then
leaves that attribute empty, which the datasheet counts per column).

This is post-processing: it reads the synthetic records and the protected aggregates'
public parameters only.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

from dpshowcase.aggregate.count import count_attribute_combinations
from dpshowcase.aggregate.keys import pack
from dpshowcase.aggregate.protected import ProtectedAggregates
from dpshowcase.aggregate.zeros import structural_zero_ids

NO_LIMIT = np.iinfo(np.int64).max // 2
"""The limit of a length without one."""
DETECTION_Z = NormalDist().inv_cdf(0.95)
"""For a length whose release threshold τ_k is not positive, the rule's threshold is
τ_k + DETECTION_Z·σ_k: the count released with probability 95% (the noise is Gaussian)."""
_PASSES = 8
"""Clearing only lowers counts; a few passes settle combinations that share records."""


def unreleased_limits(aggregates: ProtectedAggregates) -> np.ndarray:
    """Per length k (index k; 0 and 1 unused), the most occurrences an unreleased
    combination of length k may have: one below its rule threshold.

    DP: the threshold τ_k a noisy count had to exceed (``aggregates.noise``), so at most
    ⌈τ_k⌉ − 1; where τ_k ≤ 0, the detection count instead (see :func:`rule_thresholds`).
    k-anonymity: counts below k are not released, so at most k − 1.

    A detection count below one record (ε ≈ ∞) sets no limit: it would forbid every
    unreleased combination of that length, and the fit's local search cannot then
    bring the released pairs to their counts (demo, 4,000 rows, ε = 1000: 301 of
    3,428 pairs off by more than 2% with forbidden triples weighed as heavily as in the
    spare fit, 1,522 when only cleared afterwards, 98 with a limit of 1; none without
    a limit).
    """
    r = aggregates.reporting_length
    limits = np.full(r + 1, NO_LIMIT, dtype=np.int64)
    parameters = aggregates.parameters
    thresholds = rule_thresholds(aggregates)
    for k in range(2, r + 1):
        if k in thresholds:
            detection = aggregates.noise is not None and aggregates.noise.threshold(k) <= 0
            if thresholds[k] > 0 and not (detection and thresholds[k] < 1):
                limits[k] = math.ceil(thresholds[k]) - 1
        elif isinstance(parameters.get("k"), int):
            limits[k] = max(int(parameters["k"]) - 1, 0)
    return limits


def rule_thresholds(aggregates: ProtectedAggregates) -> dict[int, float]:
    """Per length k ≥ 2 of a DP release, the threshold of the rule: the release threshold
    τ_k where it is positive, else the detection count τ_k + :data:`DETECTION_Z`·σ_k (σ_k
    the noise scale), the count whose noisy value passes τ_k with probability 95%.
    Empty without DP noise (k-anonymity). A detection count below one record sets no
    limit (:func:`unreleased_limits`)."""
    noise = aggregates.noise
    if noise is None:
        return {}
    return {
        e.length: e.threshold if e.threshold > 0 else e.threshold + DETECTION_Z * e.noise_scale
        for e in noise.lengths
        if e.length >= 2
    }


def structural_zeros_of(aggregates: ProtectedAggregates) -> list[np.ndarray]:
    """The schema's structural zeros the aggregates state, as released attribute ids."""
    zeros = aggregates.parameters.get("structural_zeros") or []
    return structural_zero_ids(aggregates.attributes, [z for z in zeros if isinstance(z, str)])


def violations(
    records: np.ndarray,
    released_keys: np.ndarray,
    base: int,
    reporting_length: int,
    n_attributes: int,
    limits: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Packed keys and synthetic counts of the unreleased combinations (length ≥ 2) that
    occur more often than their length's limit. ``released_keys`` sorted."""
    keys, counts = _synthetic_counts(records, reporting_length, n_attributes)
    released = _is_released(keys, released_keys)
    length = _lengths(keys, base)
    over = ~released & (length >= 2) & (counts > limits[np.minimum(length, limits.size - 1)])
    return keys[over], counts[over]


def _is_released(keys: np.ndarray, released_keys: np.ndarray) -> np.ndarray:
    found = np.searchsorted(released_keys, keys)
    released = np.zeros(keys.size, dtype=bool)
    ok = found < released_keys.size
    released[ok] = released_keys[found[ok]] == keys[ok]
    return released


class Rule(NamedTuple):
    """What :func:`enforce_limits` enforces: the released combinations (packed ``keys``,
    sorted, with their ``base``), the reporting length, the limit per length and the
    structural zeros (attribute ids)."""

    released_keys: np.ndarray
    base: int
    reporting_length: int
    limits: np.ndarray
    zeros: list[np.ndarray]


def rule_of(aggregates: ProtectedAggregates) -> Rule:
    """The rule for records synthesized from ``aggregates``."""
    return Rule(
        released_keys=released_keys_of(aggregates),
        base=aggregates.attributes.n_attributes + 1,
        reporting_length=aggregates.reporting_length,
        limits=unreleased_limits(aggregates),
        zeros=structural_zeros_of(aggregates),
    )


def enforce_limits(
    records: np.ndarray,
    slot_of: np.ndarray,
    rule: Rule,
    surplus: np.ndarray,
    rng: np.random.Generator,
) -> int:
    """Clear cells until every unreleased combination is within its length's limit and
    no record holds a structural zero; returns how many cells were cleared.

    For a combination over its limit, just enough of its holders (drawn at random) lose
    one of its attributes: the one whose synthetic single count is furthest above its
    target (``surplus``, per attribute, updated here), so the single counts suffer least.
    """
    n_attributes = slot_of.size
    released_keys, base, limits = rule.released_keys, rule.base, rule.limits
    cleared = 0
    for zero in rule.zeros:
        cleared += _thin(records, slot_of, zero, 0, surplus, rng)
    longest = min(rule.reporting_length, limits.size - 1)
    limited = [k for k in range(2, longest + 1) if limits[k] < NO_LIMIT]
    if not limited:
        return cleared
    for _ in range(_PASSES):
        keys, counts = violations(records, released_keys, base, max(limited), n_attributes, limits)
        if keys.size == 0:
            break
        order = np.argsort(-counts, kind="stable")
        length = _lengths(keys, base)
        for i in order.tolist():
            combination = _unpack(int(keys[i]), base, int(length[i]))
            cleared += _thin(records, slot_of, combination, int(limits[length[i]]), surplus, rng)
    return cleared


def _thin(
    records: np.ndarray,
    slot_of: np.ndarray,
    combination: np.ndarray,
    limit: int,
    surplus: np.ndarray,
    rng: np.random.Generator,
) -> int:
    """Clear one attribute of ``combination`` in enough of its holders to leave ``limit``."""
    holds = np.ones(records.shape[0], dtype=bool)
    for a in combination.tolist():
        holds &= records[:, slot_of[a]] == a
    holders = np.flatnonzero(holds)
    excess = holders.size - limit
    if excess <= 0:
        return 0
    chosen = rng.choice(holders, size=excess, replace=False)
    drop = int(combination[np.argmax(surplus[combination])])
    records[chosen, slot_of[drop]] = -1
    surplus[drop] -= excess
    return int(excess)


def _synthetic_counts(
    records: np.ndarray, reporting_length: int, n_attributes: int
) -> tuple[np.ndarray, np.ndarray]:
    present = records >= 0
    indptr = np.zeros(records.shape[0] + 1, dtype=np.int64)
    np.cumsum(present.sum(axis=1), out=indptr[1:])
    big = np.iinfo(np.int32).max
    indices = np.sort(np.where(present, records, big), axis=1)
    indices = indices[indices != big].astype(np.int32)
    return count_attribute_combinations(indptr, indices, n_attributes, reporting_length)


def _lengths(keys: np.ndarray, base: int) -> np.ndarray:
    """Length of each packed key (a key of length k lies in [base^(k−1), base^k))."""
    length = np.zeros(keys.size, dtype=np.int64)
    bound = np.int64(1)
    for _ in range(64):
        if not np.any(keys >= bound):
            break
        length += keys >= bound
        bound = bound * base
    return length


def _unpack(key: int, base: int, length: int) -> np.ndarray:
    out = np.empty(length, dtype=np.int64)
    for j in range(length - 1, -1, -1):
        out[j] = key % base - 1
        key //= base
    return out


def released_keys_of(aggregates: ProtectedAggregates) -> np.ndarray:
    """Packed keys (sorted) of the released combinations."""
    base = aggregates.attributes.n_attributes + 1
    return np.sort(pack(aggregates.counts.combinations, base))
