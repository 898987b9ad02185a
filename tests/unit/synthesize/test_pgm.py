"""The model-based synthesizer on public domains: every record holds a declared value.

Tiny data (3 columns, 400 records) and few iterations keep private-pgm's compiled
estimation short; the noise is seeded (NOT for release) so results repeat.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

pytest.importorskip("mbi")

from dpshowcase.data.encode import encode
from dpshowcase.privacy.accounting import DpParameters
from dpshowcase.privacy.aim import MstMechanism
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema
from dpshowcase.synthesize.pgm import PgmSynthesizer

SCHEMA = Schema(
    columns=(
        ColumnSpec(name="sex", categories=("1", "2")),
        ColumnSpec(name="race", categories=("1", "2", "3", "4")),  # "4": no record
        ColumnSpec(name="age", kind=ColumnKind.NUMERIC, bins=(0, 20, 40, 60), may_be_empty=False),
    )
)


def _frame(n: int = 400) -> pl.DataFrame:
    rng = np.random.default_rng(8)
    sex = rng.integers(1, 3, n)
    race = np.where(rng.random(n) < 0.7, 1, rng.integers(2, 4, n))
    age = (sex * 17 + rng.integers(0, 20, n)) % 60
    return pl.DataFrame({"sex": sex.astype(str), "race": race.astype(str), "age": age.astype(str)})


def test_records_of_never_empty_public_domains_always_hold_a_value():
    params = DpParameters(epsilon=1.0, delta=1e-5, record_count_from_marginals=True)
    measured = MstMechanism(params, seed=4, estimation_iters=100).fit(encode(_frame(), SCHEMA))
    assert measured.values[1] == ("1", "2", "3", "4")  # no "" cell: the model cannot pick it
    synthesizer = PgmSynthesizer(seed=4, iters=200).fit(measured)
    synthetic = synthesizer.sample()
    assert synthetic.height == measured.record_count
    for name, allowed in (("sex", {"1", "2"}), ("race", {"1", "2", "3", "4"})):
        assert set(synthetic.get_column(name).to_list()) <= allowed
    assert "" not in set(synthetic.get_column("age").to_list())
    # the published counts re-read the records under the released schema
    aggregates = synthesizer.fitted_aggregates(synthetic)
    ones = aggregates.counts.to_frame().filter(pl.col("length") == 1)
    sex_total = ones.filter(pl.col("combination").str.starts_with("sex:"))["count"].sum()
    assert sex_total == synthetic.height  # every record counted once in "sex"


def test_the_final_fit_of_mst_runs_longer_than_aims_and_says_so():
    from dpshowcase.privacy.aim import AimMechanism
    from dpshowcase.privacy.graphical import FINAL_ITERS, FINAL_ITERS_MST

    params = DpParameters(epsilon=1.0, delta=1e-5, record_count_public=400)
    data = encode(_frame(), SCHEMA)
    measured = MstMechanism(params, seed=1, estimation_iters=50).fit(data)
    mst = PgmSynthesizer(seed=1).fit(measured)
    aim = PgmSynthesizer(seed=1).fit(
        AimMechanism(params, rounds=4, seed=1, estimation_iters=50).fit(data)
    )
    assert (mst.iters, aim.iters) == (FINAL_ITERS_MST, FINAL_ITERS)
    assert FINAL_ITERS_MST > FINAL_ITERS
    stated = mst.fitted_aggregates(mst.sample()).parameters["synthesis"]["estimation"]
    assert stated == f"mirror descent, {FINAL_ITERS_MST} iterations"
    assert PgmSynthesizer(iters=7).fit(measured).iters == 7  # asked for: kept
