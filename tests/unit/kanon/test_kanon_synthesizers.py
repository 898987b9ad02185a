"""The synthetic-data-showcase modes: whole records held by ≥ k, counts as released."""

from __future__ import annotations

import numpy as np
import pytest
from kanon_helpers import held_by, record_sets

from dpshowcase.errors import InputError, ParameterError
from dpshowcase.kanon._growth import grow
from dpshowcase.kanon.consolidate import attribute_targets
from dpshowcase.kanon.records import Records
from dpshowcase.kanon.registry import MODES, SYNTHESIZERS, check_mode
from dpshowcase.kanon.seeded import RowSeededSynthesizer
from dpshowcase.kanon.unseeded import UnseededSynthesizer

K = 5


@pytest.fixture(scope="module", params=sorted(SYNTHESIZERS))
def synthesized(request, cases) -> tuple[str, Records]:
    synthesizer = SYNTHESIZERS[request.param](K, seed=3)
    return request.param, synthesizer.fit(cases).sample()


def test_every_whole_record_is_held_by_at_least_k_sensitive_records(synthesized, cases):
    mode, records = synthesized
    for attributes in {frozenset(s) for s in record_sets(records)}:
        assert held_by(cases, set(attributes)) >= K, (mode, attributes)


def test_attribute_counts_equal_the_released_counts(synthesized, cases):
    _, records = synthesized
    assert records.attribute_counts().tolist() == attribute_targets(cases, K).tolist()


def test_no_record_is_empty_and_ids_are_sorted(synthesized):
    _, records = synthesized
    assert (records.record_lengths() > 0).all()
    for s in range(records.n_records):
        ids = records.indices[records.indptr[s] : records.indptr[s + 1]]
        assert (np.diff(ids) > 0).all()


def test_a_seed_repeats_the_output(cases):
    for cls in SYNTHESIZERS.values():
        first = cls(K, seed=7).fit(cases).sample()
        again = cls(K, seed=7).fit(cases).sample()
        assert first.indptr.tolist() == again.indptr.tolist()
        assert first.indices.tolist() == again.indices.tolist()


def test_row_seeded_records_are_maximal_subsets_of_their_seeds(cases):
    """Each grown record keeps seed attributes while the whole set stays held by ≥ k,
    and stops only when no further seed attribute fits."""
    indptr, indices = grow(cases, K, seeds=np.arange(cases.n_records), rng=np.random.default_rng(1))
    grown = Records(cases.attributes, indptr, indices)
    for i, kept in enumerate(record_sets(grown)):
        seed = set(cases.record(i).tolist())
        assert kept <= seed
        assert held_by(cases, kept) >= K
        for extra in seed - kept:
            assert held_by(cases, kept | {extra}) < K


def test_growing_reports_progress_like_every_long_step_and_draws_the_same_records(cases):
    """grow calls a dpshowcase.progress.Progress as (stage, done, total): records
    finished only grow, the last report is all of them, and reporting does not change
    what a seed draws."""
    calls: list[tuple[str, float, float]] = []

    def progress(stage: str, done: float, total: float, /) -> None:
        calls.append((stage, done, total))

    seeds = np.arange(cases.n_records)
    reported = grow(
        cases, K, seeds=seeds, rng=np.random.default_rng(4), progress=progress, stage="S"
    )
    silent = grow(cases, K, seeds=seeds, rng=np.random.default_rng(4))
    assert calls, "grow reported nothing"
    assert {stage for stage, _, _ in calls} == {"S"}
    assert {total for _, _, total in calls} == {cases.n_records}
    done = [d for _, d, _ in calls]
    assert done == sorted(done)
    assert done[-1] == cases.n_records
    assert reported[0].tolist() == silent[0].tolist()
    assert reported[1].tolist() == silent[1].tolist()


def test_a_record_held_k_times_is_kept_whole(cases):
    """Duplicated records (here: 6 copies) survive row-seeding intact."""
    indptr, indices = grow(cases, 2, seeds=np.arange(cases.n_records), rng=np.random.default_rng(0))
    grown = record_sets(Records(cases.attributes, indptr, indices))
    for i in range(cases.n_records):
        seed = set(cases.record(i).tolist())
        if held_by(cases, seed) >= 2:
            assert grown[i] == seed


def test_unseeded_with_one_order_still_holds_the_guarantee(cases):
    records = UnseededSynthesizer(K, seed=2, orders=1).fit(cases).sample()
    for attributes in {frozenset(s) for s in record_sets(records)}:
        assert held_by(cases, set(attributes)) >= K


@pytest.mark.parametrize("k", [1, 0, -2, 2.5, "10", True])
def test_k_below_two_or_not_whole_is_refused(k):
    with pytest.raises(ParameterError, match="k must be a whole number of at least 2"):
        RowSeededSynthesizer(k)


def test_bad_use_is_refused(cases):
    with pytest.raises(ParameterError, match="Call fit"):
        RowSeededSynthesizer(5).sample()
    with pytest.raises(ParameterError, match="takes encoded sensitive data"):
        RowSeededSynthesizer(5).fit("cases.csv")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="seed must be a whole number"):
        RowSeededSynthesizer(5, seed=-1)
    with pytest.raises(ParameterError, match="orders must be"):
        UnseededSynthesizer(5, orders=0)
    empty = cases.__class__(
        schema=cases.schema,
        attributes=cases.attributes,
        indptr=np.zeros(1, dtype=np.int64),
        indices=np.zeros(0, dtype=np.int32),
        source_rows=0,
    )
    with pytest.raises(InputError, match="no records"):
        RowSeededSynthesizer(5).fit(empty)


def test_modes_are_found_by_name():
    assert MODES == ("row-seeded", "value-seeded", "unseeded", "aggregate-seeded")
    check_mode("unseeded")
    with pytest.raises(ParameterError, match="Unknown mode 'rowseeded'; choose one of row-seeded"):
        check_mode("rowseeded")
