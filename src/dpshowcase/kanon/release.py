"""A k-anonymous release: k-protected aggregates, checked synthetic records, and figures.

``k_anonymous_release(sensitive, k=10, mode="row-seeded")`` counts every combination
up to R exactly, protects the counts at resolution k, synthesizes records in the chosen
mode, checks the guarantee on the very table that will be written
(:mod:`.guarantee`), and measures how the synthetic counts agree with the released
ones (:mod:`.agreement`). Writing the bundle is the caller's business
(:func:`~dpshowcase.release.bundle.write_release`), and only after the check passed.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dpshowcase.aggregate.count import CombinationCounts, check_reporting_length, count_combinations
from dpshowcase.aggregate.protected import ProtectedAggregates
from dpshowcase.data.encode import SensitiveData
from dpshowcase.kanon.aggregate_seeded import KAggregateSeededSynthesizer
from dpshowcase.kanon.agreement import LengthAgreement, agreement
from dpshowcase.kanon.guarantee import GuaranteeCheck, check_k_anonymity
from dpshowcase.kanon.protect import check_k, k_protect
from dpshowcase.kanon.registry import AGGREGATE_SEEDED, SYNTHESIZERS, check_mode
from dpshowcase.progress import Progress

WHOLE_RECORD_NOTE = (
    "Beyond the guarantee, each synthetic record as a whole (all its attributes "
    "together) is held by at least k sensitive records; this was checked too."
)


@dataclass(frozen=True, eq=False)
class KRelease:
    """What a k-anonymous release is made of, checked."""

    aggregates: ProtectedAggregates
    """The k-protected counts; their parameters carry the check and the agreement."""
    synthetic: pl.DataFrame
    """Synthetic records: one string column per attribute column."""
    check: GuaranteeCheck
    """What the guarantee check examined."""
    agreement: list[LengthAgreement]
    """Synthetic beside released counts, per length."""


def k_anonymous_release(
    sensitive: SensitiveData,
    *,
    k: int,
    mode: str = "row-seeded",
    reporting_length: int = 3,
    seed: int | None = None,
    exact: CombinationCounts | None = None,
    progress: Progress | None = None,
) -> KRelease:
    """Protect, synthesize and check; GuaranteeError if the check fails."""
    check_k(k)
    check_mode(mode)
    check_reporting_length(reporting_length, len(sensitive.attributes.columns))
    notify = progress or (lambda stage, step, steps: None)
    if exact is None or exact.reporting_length != reporting_length:
        notify("Counting combinations", 0, 1)
        exact = count_combinations(
            sensitive,
            reporting_length,
            progress=notify,
        )
    notify("Protecting at resolution k", 0, 1)
    aggregates = k_protect(
        exact,
        sensitive.n_records,
        k,
        privacy_unit=sensitive.privacy_unit,
        parameters={"synthesizer": mode, "seed": seed},
    )
    if mode == AGGREGATE_SEEDED:
        records = KAggregateSeededSynthesizer(seed=seed).fit(aggregates).sample(notify)
    else:
        records = SYNTHESIZERS[mode](k, seed=seed).fit(sensitive).sample(notify)
    synthetic = records.to_frame()
    notify("Checking the guarantee", 0, 1)
    check = check_k_anonymity(
        aggregates, synthetic, exact, k, sensitive=None if mode == AGGREGATE_SEEDED else sensitive
    )
    agreed = agreement(aggregates, check.synthetic_counts)
    notify("Checking the guarantee", 1, 1)
    parameters = {
        **aggregates.parameters,
        "guarantee_check": check.as_dict(),
        "whole_record_k_anonymity": mode != AGGREGATE_SEEDED,
        "synthetic_vs_released": [a.as_dict() for a in agreed],
    }
    if mode != AGGREGATE_SEEDED:
        parameters["note"] = WHOLE_RECORD_NOTE
    return KRelease(
        aggregates=aggregates.derive(parameters=parameters),
        synthetic=synthetic,
        check=check,
        agreement=agreed,
    )
