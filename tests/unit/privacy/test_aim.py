"""AIM and MST: accounting, schema, fidelity at huge ε, and what the synthesizer reads.

Tiny data (3 columns, a few hundred records) and few rounds keep private-pgm's compiled
estimation short; every run uses seeded noise (NOT for release) so results repeat.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import polars as pl
import pytest

pytest.importorskip("mbi")

from dpshowcase.data.encode import SensitiveData, encode
from dpshowcase.errors import ParameterError
from dpshowcase.privacy.accounting import (
    DpParameters,
    RhoAccount,
    gaussian_rho,
    selection_rho,
    zcdp_rho,
)
from dpshowcase.privacy.aim import (
    AimMechanism,
    MarginalMeasurements,
    Measurement,
    MstMechanism,
    estimate_total,
)
from dpshowcase.privacy.noise import OpenDPNoise, SeededNoise
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema
from dpshowcase.synthesize.pgm import PgmSynthesizer

COLUMNS = ("colour", "size", "shape")


def _frame(n: int, seed: int) -> pl.DataFrame:
    """Dependent columns: size follows colour, shape follows size (with noise)."""
    rng = np.random.default_rng(seed)
    colour = rng.integers(0, 3, n)
    size = (colour + (rng.random(n) < 0.2)) % 3
    shape = (size + (rng.random(n) < 0.1)) % 2
    return pl.DataFrame(
        {
            "colour": np.array(["red", "green", "blue"])[colour],
            "size": np.array(["S", "M", "L"])[size],
            "shape": np.array(["round", "square"])[shape],
        }
    )


def _data(n: int = 600, seed: int = 1) -> SensitiveData:
    return encode(_frame(n, seed), Schema.all_categorical(COLUMNS))


@pytest.fixture(scope="module")
def aim_run() -> tuple[MarginalMeasurements, pl.DataFrame]:
    params = DpParameters(epsilon=2.0, delta=1e-5)
    measured = AimMechanism(params, rounds=4, seed=7).fit(_data())
    synthetic = PgmSynthesizer(seed=7, iters=300).fit(measured).sample()
    return measured, synthetic


def test_aim_spends_exactly_its_rho(aim_run):
    measured, _ = aim_run
    # closed form: ε_M = ε − ε_N (ε_N = 0.1 by default for ε ≥ 1), δ split in halves,
    # ρ = zCDP_ρ(ε_M, δ/2)
    rho = zcdp_rho(2.0 - 0.1, 0.5e-5)
    assert measured.budget.rho == pytest.approx(rho, rel=1e-12)
    assert measured.account.spent == pytest.approx(rho, rel=1e-8)
    assert measured.account.spent <= rho * (1 + 1e-9)
    # 1-way value discovery: 3 columns at the first σ = √(T / (2·0.9·ρ)), T = 4 rounds
    sigma = math.sqrt(4 / (2 * 0.9 * rho))
    assert measured.account.spends[0].rho == pytest.approx(gaussian_rho(sigma, math.sqrt(3)))
    assert measured.private is False  # seeded: NOT for release


def test_mst_spends_exactly_its_rho_in_thirds():
    params = DpParameters(epsilon=1.0, delta=1e-5)
    measured = MstMechanism(params, seed=3, estimation_iters=100).fit(_data(300, 2))
    rho = measured.budget.rho
    assert measured.account.spent == pytest.approx(rho, rel=1e-8)
    selections = [s.rho for s in measured.account.spends if s.what.startswith("edge")]
    assert len(selections) == 2  # a spanning tree of 3 columns has 2 edges
    assert sum(selections) == pytest.approx(rho / 3, rel=1e-8)
    assert len([m for m in measured.measurements if len(m.clique) == 2]) == 2


def test_synthetic_records_respect_the_schema(aim_run):
    measured, synthetic = aim_run
    assert tuple(synthetic.columns) == COLUMNS
    assert synthetic.height == measured.record_count
    for c, name in enumerate(COLUMNS):
        allowed = set(measured.values[c])
        assert set(synthetic.get_column(name).to_list()) <= allowed
        assert allowed <= {"", *_frame(600, 1).get_column(name).unique().to_list()}


def test_huge_epsilon_keeps_two_way_marginals():
    frame = _frame(400, 5)
    params = DpParameters(
        epsilon=1e4, allow_large_epsilon=True, delta=1e-6, record_count_public=400
    )
    measured = AimMechanism(params, rounds=4, seed=11).fit(
        encode(frame, Schema.all_categorical(COLUMNS))
    )
    synthetic = PgmSynthesizer(seed=11, iters=1000).fit(measured).sample()
    # At ε = 10⁴ every noise scale is below 0.05 counts, so what is left is the model's
    # fitting error after 1000 mirror-descent steps on an 18-cell domain and the rounding
    # of 400 records: each 2-way marginal must agree within a TVD of 0.03 (12 records).
    for a, b in (("colour", "size"), ("size", "shape"), ("colour", "shape")):
        real = frame.group_by(a, b).len().rename({"len": "real"})
        made = synthetic.group_by(a, b).len().rename({"len": "made"})
        both = real.join(made, on=[a, b], how="full", coalesce=True).fill_null(0)
        tvd = 0.5 * (both["real"] - both["made"]).abs().sum() / 400
        assert tvd <= 0.03, (a, b, tvd)


def test_the_synthesizer_reads_only_protected_measurements():
    data = _data(50, 3)
    with pytest.raises(ParameterError, match="protected measurements only"):
        PgmSynthesizer().fit(data)  # type: ignore[arg-type]
    # and nothing inside the measurements can hold sensitive records
    kinds = {f.name: f.type for f in dataclasses.fields(MarginalMeasurements)}
    assert not any("SensitiveData" in str(t) for t in kinds.values())
    assert {f.name for f in dataclasses.fields(Measurement)} == {"clique", "noisy", "sigma"}


def test_multi_value_columns_are_refused():
    frame = pl.DataFrame({"a": ["x;y", "x"] * 10, "b": ["1", "2"] * 10})
    schema = Schema(
        columns=(ColumnSpec(name="a", kind=ColumnKind.MULTI_VALUE), ColumnSpec(name="b"))
    )
    with pytest.raises(ParameterError, match="multi-valued"):
        AimMechanism(DpParameters(epsilon=1.0, delta=1e-5), seed=1).fit(encode(frame, schema))


def test_rho_account_refuses_to_overspend():
    from dpshowcase.errors import InternalError

    account = RhoAccount(1.0)
    account.charge("a", 0.6)
    with pytest.raises(InternalError):
        account.charge("b", 0.5)
    assert account.spent == pytest.approx(0.6)
    assert selection_rho(2.0) == pytest.approx(0.5)  # ε²/8


@pytest.mark.parametrize("source", [OpenDPNoise(), SeededNoise(5)], ids=["opendp", "seeded"])
def test_noisy_max_picks_a_clear_winner(source):
    # scale 2Δ/ε = 0.002: the Gumbel noise cannot bridge a gap of 10
    assert source.select_noisy_max(np.array([0.0, 10.0, 0.0]), 1.0, 1000.0) == 1


# --- the record count from the 1-way marginals ---------------------------------------


def test_estimate_total_weights_each_total_by_its_inverse_variance():
    # totals 100 (2 cells, σ = 1: variance 2) and 130 (4 cells, σ = 2: variance 16):
    # weights 1/2 and 1/16, so (100/2 + 130/16) / (1/2 + 1/16) = 103.33…
    one = Measurement(clique=(0,), noisy=np.array([60.0, 40.0]), sigma=1.0)
    two = Measurement(clique=(1,), noisy=np.array([30.0, 30.0, 30.0, 40.0]), sigma=2.0)
    assert estimate_total([one, two]) == pytest.approx((100 / 2 + 130 / 16) / (1 / 2 + 1 / 16))
    with pytest.raises(ParameterError):
        estimate_total([])


@pytest.mark.parametrize("mechanism", ["aim", "mst"])
def test_record_count_from_marginals_spends_all_of_epsilon_on_them(mechanism):
    params = DpParameters(epsilon=2.0, delta=1e-5, record_count_from_marginals=True)
    data = _data(600, 4)
    if mechanism == "aim":
        measured = AimMechanism(params, rounds=4, seed=5, estimation_iters=100).fit(data)
    else:
        measured = MstMechanism(params, seed=5, estimation_iters=100).fit(data)
    # closed form: no ε_N, ε_M = ε, δ split in halves: ρ = zCDP_ρ(2, δ/2), spent exactly
    rho = zcdp_rho(2.0, 0.5e-5)
    assert measured.budget.rho == pytest.approx(rho, rel=1e-12)
    assert measured.account.spent == pytest.approx(rho, rel=1e-8)
    assert measured.budget.epsilon_record_count == 0.0
    assert not any("record count" in s.what for s in measured.account.spends)
    # the count: the inverse-variance weighted mean of the three 1-way totals. Each
    # total has variance σ²·cells (4, 4 and 3 cells with "no value"), so the estimate's
    # standard deviation is σ/√(1/4 + 1/4 + 1/3); seeded, it must lie within 5 of them
    sigma = measured.measurements[0].sigma
    sd = sigma / math.sqrt(1 / 4 + 1 / 4 + 1 / 3)
    assert abs(measured.record_count - 600) <= 5 * sd
    assert measured.budget.record_count == measured.record_count
    parameters = measured.parameters()
    assert parameters["record_count_source"].startswith("estimated from the noisy 1-way")
    assert "estimated from the noisy 1-way marginals" in measured.guarantee


# --- public domains -------------------------------------------------------------------


def _declared_frame() -> pl.DataFrame:
    """600 records; "violet" is held by one record, "yellow" by none."""
    frame = _frame(600, 6)
    colour = frame.get_column("colour").to_list()
    colour[0] = "violet"
    return frame.with_columns(pl.Series("colour", colour))


def _declared_schema(may_be_empty: bool | None = None) -> Schema:
    return Schema(
        columns=(
            ColumnSpec(
                name="colour",
                categories=("red", "green", "blue", "violet", "yellow"),
                may_be_empty=may_be_empty,
            ),
            ColumnSpec(name="size"),
            ColumnSpec(name="shape", categories=("round", "square")),
        )
    )


def test_a_declared_domain_keeps_every_value_and_has_no_empty_cell():
    params = DpParameters(epsilon=1.0, delta=1e-5, record_count_public=600)
    data = encode(_declared_frame(), _declared_schema())
    measured = AimMechanism(params, rounds=4, seed=9, estimation_iters=100).fit(data)
    # declared: every category, in order, no "" cell, nothing suppressed (the single
    # "violet" record and the unseen "yellow" stay); learnt ("size"): "" is code 0
    assert measured.values[0] == ("red", "green", "blue", "violet", "yellow")
    assert measured.values[2] == ("round", "square")
    assert measured.values[1][0] == ""
    assert measured.sizes == (5, 4, 2)
    assert measured.suppressed_values["colour"] == 0
    synthetic = PgmSynthesizer(seed=9, iters=100).fit(measured).sample()
    assert "" not in set(synthetic.get_column("colour").to_list())
    assert "" not in set(synthetic.get_column("shape").to_list())
    # the same data with colour learnt: the threshold (σ ≈ 8 at this ρ) suppresses the
    # single "violet" record's value, which then shows as no value
    learnt = encode(_declared_frame(), Schema.all_categorical(COLUMNS))
    measured_learnt = AimMechanism(params, rounds=4, seed=9, estimation_iters=100).fit(learnt)
    assert "violet" not in measured_learnt.values[0]
    assert measured_learnt.suppressed_values["colour"] == 1


def test_a_declared_domain_that_may_be_empty_keeps_the_empty_cell():
    frame = _declared_frame().with_columns(
        pl.when(pl.int_range(pl.len()) == 5).then(None).otherwise(pl.col("colour")).alias("colour")
    )
    params = DpParameters(epsilon=1.0, delta=1e-5, record_count_public=600)
    measured = MstMechanism(params, seed=2, estimation_iters=100).fit(
        encode(frame, _declared_schema(may_be_empty=True))
    )
    assert measured.values[0] == ("", "red", "green", "blue", "violet", "yellow")
    assert measured.suppressed_values["colour"] == 0


def test_numeric_bins_declared_never_empty_have_no_empty_cell():
    frame = pl.DataFrame({"age": [str(a % 30) for a in range(300)], "g": ["a", "b", "c"] * 100})
    schema = Schema(
        columns=(
            ColumnSpec(
                name="age", kind=ColumnKind.NUMERIC, bins=(0, 10, 20, 30), may_be_empty=False
            ),
            ColumnSpec(name="g", categories=("a", "b", "c")),
        )
    )
    params = DpParameters(epsilon=1.0, delta=1e-5, record_count_public=300)
    measured = MstMechanism(params, seed=2, estimation_iters=100).fit(encode(frame, schema))
    assert measured.sizes == (3, 3)
    assert "" not in measured.values[0]
