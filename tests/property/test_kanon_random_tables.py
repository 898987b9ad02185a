"""k-anonymity on random small tables (Hypothesis): every mode passes its check, every
synthetic record is held as a whole by ≥ k records, and the check catches a planted
rare combination."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.data.encode import SensitiveData, encode
from dpshowcase.errors import GuaranteeError
from dpshowcase.kanon.guarantee import check_k_anonymity
from dpshowcase.kanon.records import Records
from dpshowcase.kanon.registry import MODES
from dpshowcase.kanon.release import k_anonymous_release
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema

SETTINGS = settings(
    max_examples=25,
    deadline=None,  # the first call compiles the kernels
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CELL = st.sampled_from(["", "a", "b", "c", "d"])
MULTI = st.lists(st.sampled_from(["x", "y", "z"]), max_size=3, unique=True).map(";".join)


@st.composite
def tables(draw: st.DrawFn) -> SensitiveData:
    n_rows = draw(st.integers(8, 80))
    n_columns = draw(st.integers(2, 4))
    columns = {
        f"c{j}": draw(st.lists(CELL, min_size=n_rows, max_size=n_rows)) for j in range(n_columns)
    }
    specs = [ColumnSpec(name=name) for name in columns]
    if draw(st.booleans()):
        columns["m"] = draw(st.lists(MULTI, min_size=n_rows, max_size=n_rows))
        specs.append(ColumnSpec(name="m", kind=ColumnKind.MULTI_VALUE, delimiter=";"))
    return encode(pl.DataFrame(columns), Schema(columns=tuple(specs)))


def _whole_records_held(data: SensitiveData, synthetic: pl.DataFrame, k: int) -> bool:
    records, _ = Records.from_frame(synthetic, data.attributes)
    rows = [set(data.record(i).tolist()) for i in range(data.n_records)]
    for s in range(records.n_records):
        held = set(records.indices[records.indptr[s] : records.indptr[s + 1]].tolist())
        if held and sum(1 for row in rows if held <= row) < k:
            return False
    return True


@pytest.mark.parametrize("mode", MODES)
@SETTINGS
@given(
    data=tables(), k=st.integers(2, 6), reporting_length=st.integers(1, 3), seed=st.integers(0, 99)
)
def test_every_mode_passes_its_check(
    mode: str, data: SensitiveData, k: int, reporting_length: int, seed: int
) -> None:
    reporting_length = min(reporting_length, len(data.attributes.columns))
    release = k_anonymous_release(
        data, k=k, mode=mode, reporting_length=reporting_length, seed=seed
    )
    # the check ran inside; run it again on the table as it would be written
    exact = count_combinations(data, reporting_length)
    check_k_anonymity(release.aggregates, release.synthetic, exact, k)
    assert (release.aggregates.counts.counts % k == 0).all()
    if mode != "aggregate-seeded":
        assert _whole_records_held(data, release.synthetic, k)
        assert release.agreement[0].max_abs_error == 0


@SETTINGS
@given(data=tables(), k=st.integers(2, 6), seed=st.integers(0, 99))
def test_the_check_catches_a_planted_rare_combination(
    data: SensitiveData, k: int, seed: int
) -> None:
    exact = count_combinations(data, 2)
    rare = [c for c, n in exact.as_dict().items() if n < k]
    if not rare:
        return
    release = k_anonymous_release(data, k=k, mode="row-seeded", reporting_length=2, seed=seed)
    planted = Records(
        attributes=data.attributes,
        indptr=np.array([0, len(rare[0])], dtype=np.int64),
        indices=np.array(rare[0], dtype=np.int32),
    ).to_frame()
    with pytest.raises(GuaranteeError, match="fewer than k"):
        check_k_anonymity(release.aggregates, pl.concat([release.synthetic, planted]), exact, k)
