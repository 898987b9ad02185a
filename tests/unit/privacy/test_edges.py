"""Bin edges chosen with DP: public candidates, budget from the accounting, open bins."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from dpshowcase.errors import ParameterError
from dpshowcase.privacy.accounting import DpParameters, edge_quantile_epsilon, plan_budget
from dpshowcase.privacy.edges import EDGE_CANDIDATES, bin_count, private_edges
from dpshowcase.privacy.noise import OpenDPNoise, SeededNoise
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema

ROWS = 4000


def _schema(**numeric: ColumnSpec) -> Schema:
    return Schema(columns=(ColumnSpec(name="g"), *numeric.values()))


def _frame(seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    ages = rng.integers(0, 100, ROWS).astype(str).tolist()
    ages[0] = "117"  # a planted extreme
    return pl.DataFrame({"g": rng.choice(["a", "b"], ROWS).tolist(), "age": ages})


def test_edges_split_epsilon_e_and_the_plan_adds_up() -> None:
    params = DpParameters(epsilon=2.0, edges_epsilon_proportion=0.2)
    assert params.edges_epsilon == pytest.approx(0.4)
    assert edge_quantile_epsilon(params, 4) * 4 <= 0.4
    assert edge_quantile_epsilon(params, 4) * 4 == pytest.approx(0.4)
    plan = plan_budget(params, 1000)
    assert plan.epsilon_edges == pytest.approx(0.4)
    total = plan.epsilon_edges + plan.epsilon_record_count + plan.epsilon_marginals
    assert total == pytest.approx(2.0, rel=1e-12)
    assert "0.4-DP for bin edges chosen from the data" in plan.guarantee
    with pytest.raises(ParameterError, match="none was given"):
        edge_quantile_epsilon(DpParameters(epsilon=1.0), 2)
    with pytest.raises(ParameterError, match="leave nothing"):
        DpParameters(epsilon=1.0, edges_epsilon_proportion=0.95)


def test_candidates_are_fixed_round_numbers() -> None:
    assert len(EDGE_CANDIDATES) == 313
    assert list(EDGE_CANDIDATES) == sorted(set(EDGE_CANDIDATES))
    assert {0.0, 20.0, 25.0, 120.0, -1500.0, 9e9} <= set(EDGE_CANDIDATES)
    assert 117.0 not in EDGE_CANDIDATES


def test_quantile_column_gets_dp_edges_near_its_quantiles() -> None:
    schema = _schema(age=ColumnSpec(name="age", kind=ColumnKind.NUMERIC, quantiles=4))
    params = DpParameters(epsilon=4.0, edges_epsilon_proportion=0.5)
    chosen, report = private_edges(_frame(), schema, params, SeededNoise(3))
    spec = chosen.column("age")
    assert spec.edges == "dp"
    assert spec.open_ended
    assert spec.quantiles is None
    assert chosen.data_derived_edges == ()
    assert set(spec.bins or ()) <= set(EDGE_CANDIDATES)
    # ε per quantile = 2/3: the exponential mechanism's scale is 2·0.75/(2/3) = 2.25 score
    # units, while a candidate one grid step (≥ 5 years ≈ 200 records) off scores ≥ 100
    # worse; so each edge is, but with chance < 313·e^(-100/2.25), the grid point
    # nearest its true quantile (25, 50, 75 for ages 0..99).
    assert spec.bins == (25.0, 50.0, 70.0) or spec.bins == (25.0, 50.0, 80.0)
    assert report["columns"]["age"]["quantile_levels"] == [0.25, 0.5, 0.75]
    assert report["epsilon"] == pytest.approx(2.0)


def test_inferred_edges_keep_their_bin_count() -> None:
    inferred = ColumnSpec(
        name="age", kind=ColumnKind.NUMERIC, bins=(20, 40, 60), open_ended=True, edges="inferred"
    )
    assert bin_count(inferred) == 4
    params = DpParameters(epsilon=4.0, edges_epsilon_proportion=0.5)
    chosen, _ = private_edges(_frame(), _schema(age=inferred), params, SeededNoise(1))
    assert len(chosen.column("age").bins or ()) <= 3
    assert 117.0 not in (chosen.column("age").bins or ())


def test_opendp_source_picks_a_candidate() -> None:
    values = np.random.default_rng(0).uniform(0, 100, 2000)
    picked = OpenDPNoise().select_quantile(values, 0.5, 1.0, EDGE_CANDIDATES)
    assert picked in EDGE_CANDIDATES
    assert 40 <= picked <= 60  # at ε=1 with 2,000 values, far candidates score ≥ 100 worse
    assert math.isfinite(picked)


def test_refusals() -> None:
    public = ColumnSpec(name="age", kind=ColumnKind.NUMERIC, bins=(20,), open_ended=True)
    params = DpParameters(epsilon=1.0, edges_epsilon_proportion=0.1)
    with pytest.raises(ParameterError, match="no column of the schema has edges from the data"):
        private_edges(_frame(), _schema(age=public), params, SeededNoise(0))
    quantiles = ColumnSpec(name="age", kind=ColumnKind.NUMERIC, quantiles=3)
    merged = Schema(columns=(ColumnSpec(name="g"), quantiles), subject_id="id")
    with pytest.raises(ParameterError, match="merges the rows of each subject"):
        private_edges(_frame(), merged, params, SeededNoise(0))
