"""The check of a k-anonymous release passes good releases and catches planted violations."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.errors import GuaranteeError
from dpshowcase.kanon.protect import k_protect
from dpshowcase.kanon.records import Records
from dpshowcase.kanon.release import k_anonymous_release
from dpshowcase.kanon.seeded import RowSeededSynthesizer
from dpshowcase.testing import protected_aggregates_for_tests

K = 5
R = 3


@pytest.fixture(scope="module")
def release(cases):
    return k_anonymous_release(cases, k=K, mode="row-seeded", reporting_length=R, seed=1)


@pytest.fixture(scope="module")
def exact(cases):
    return count_combinations(cases, R)


def check(aggregates, synthetic, exact):
    from dpshowcase.kanon.guarantee import check_k_anonymity

    return check_k_anonymity(aggregates, synthetic, exact, K)


def test_a_good_release_passes_and_says_what_it_checked(release, exact):
    result = check(release.aggregates, release.synthetic, exact)
    assert result.synthetic_records == release.synthetic.height
    assert result.released_combinations == len(release.aggregates.counts)
    assert set(result.synthetic_combinations) == {1, 2, 3}
    assert result.as_dict()["passed"] is True


def test_a_planted_rare_combination_fails(release, exact, cases):
    rare = next(
        combination
        for combination, count in exact.as_dict().items()
        if count < K and len(combination) == 2
    )
    planted = Records(
        attributes=cases.attributes,
        indptr=np.array([0, 2], dtype=np.int64),
        indices=np.array(sorted(rare), dtype=np.int32),
    ).to_frame()
    synthetic = pl.concat([release.synthetic, planted])
    with pytest.raises(GuaranteeError, match=r"1 combination\(s\) in the synthetic records"):
        check(release.aggregates, synthetic, exact)


def test_a_copied_unique_record_fails(release, exact, cases):
    unique = next(
        i for i in range(cases.n_records) if len(cases.record(i)) >= 3 and _held(cases, i) == 1
    )
    copied = Records(
        attributes=cases.attributes,
        indptr=np.array([0, len(cases.record(unique))], dtype=np.int64),
        indices=cases.record(unique).astype(np.int32),
    ).to_frame()
    with pytest.raises(GuaranteeError, match="describe fewer than k = 5 records"):
        check(release.aggregates, pl.concat([release.synthetic, copied]), exact)


def test_an_unknown_value_fails(release, exact):
    synthetic = release.synthetic.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("Atlantis"))
        .otherwise(pl.col("country"))
        .alias("country")
    )
    with pytest.raises(GuaranteeError, match=r"absent from the sensitive data .*country:Atlantis"):
        check(release.aggregates, synthetic, exact)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c + 1, "below k = 5 or not a multiple"),
        (lambda c: np.where(np.arange(c.size) == 0, 0, c), "below k = 5 or not a multiple"),
        (lambda c: c + K, "not its exact count rounded down"),
        (lambda c: np.maximum(c - K, K), "not its exact count rounded down"),
    ],
    ids=["not-multiple", "below-k", "too-high", "too-low"],
)
def test_wrong_released_counts_fail(release, exact, change, message):
    counts = release.aggregates.counts
    wrong = release.aggregates.derive(counts=counts.with_counts(change(counts.counts.copy())))
    with pytest.raises(GuaranteeError, match=message):
        check(wrong, release.synthetic, exact)


def test_dp_aggregates_are_not_checked_as_k_anonymous(release, exact):
    k_release = release.aggregates
    dp = protected_aggregates_for_tests(
        k_release.counts, record_count=k_release.record_count, mode="dp"
    )
    with pytest.raises(GuaranteeError, match="k-anonymity check was asked of 'dp'"):
        check(dp, release.synthetic, exact)


def test_k_protect_releases_multiples_of_k_and_only_released_attributes(cases, exact):
    aggregates = k_protect(exact, cases.n_records, K)
    assert (aggregates.counts.counts % K == 0).all()
    assert (aggregates.counts.counts >= K).all()
    assert aggregates.record_count == cases.n_records // K * K
    assert aggregates.mode == "k-anonymity"
    singles = aggregates.counts.lengths == 1
    assert int(singles.sum()) == aggregates.attributes.n_attributes
    assert aggregates.guarantee.count(".") == 1  # one sentence
    assert "at least 5 records" in aggregates.guarantee
    assert aggregates.parameters["k"] == K


def test_the_release_carries_its_check_and_agreement(release):
    parameters = release.aggregates.parameters
    assert parameters["guarantee_check"]["passed"] is True
    assert parameters["synthesizer"] == "row-seeded"
    assert parameters["whole_record_k_anonymity"] is True
    singles = release.agreement[0]
    assert singles.exact == singles.released
    assert singles.relative_l1 == 0.0


def test_synthesizer_output_passes_for_every_mode(cases, exact):
    for mode in ("value-seeded", "unseeded", "aggregate-seeded"):
        result = k_anonymous_release(cases, k=K, mode=mode, reporting_length=R, seed=2, exact=exact)
        assert result.check.synthetic_records == result.synthetic.height


def test_records_survive_the_table_round_trip(cases):
    records = RowSeededSynthesizer(K, seed=1).fit(cases).sample()
    back, unknown = Records.from_frame(records.to_frame(), cases.attributes)
    assert not unknown
    assert back.indptr.tolist() == records.indptr.tolist()
    assert back.indices.tolist() == records.indices.tolist()


def _held(cases, i: int) -> int:
    target = set(cases.record(i).tolist())
    return sum(1 for j in range(cases.n_records) if target <= set(cases.record(j).tolist()))


def test_a_record_rare_only_as_a_whole_fails_the_whole_record_check(cases):
    from dpshowcase.kanon.guarantee import check_k_anonymity

    exact = count_combinations(cases, 1)
    release = k_anonymous_release(cases, k=K, mode="row-seeded", reporting_length=1, seed=1)
    assert release.check.whole_records > 0
    counts = exact.as_dict()
    unique = next(
        i
        for i in range(cases.n_records)
        if _held(cases, i) == 1 and all(counts[(a,)] >= K for a in cases.record(i).tolist())
    )
    copied = Records(
        attributes=cases.attributes,
        indptr=np.array([0, len(cases.record(unique))], dtype=np.int64),
        indices=cases.record(unique).astype(np.int32),
    ).to_frame()
    synthetic = pl.concat([release.synthetic, copied])
    check_k_anonymity(release.aggregates, synthetic, exact, K)  # every single is common
    with pytest.raises(GuaranteeError, match=r"1 synthetic record\(s\) are held as a whole"):
        check_k_anonymity(release.aggregates, synthetic, exact, K, sensitive=cases)
