"""Small data: the synthetic record count stays near n, and no synthetic row is empty.

Issue 13, point 3: at 500 rows and ε = 1 the record count used to get 0.5% of ε (discrete
Laplace noise of scale 200), and eight runs gave 241 to 1,950 synthetic records, one of
them with 1,418 completely empty rows.
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from dpshowcase.data.demo import generate_demo_records
from dpshowcase.data.prepare import prepare
from dpshowcase.privacy.accounting import DpParameters
from dpshowcase.privacy.marginals import DPMarginals
from dpshowcase.synthesize.aggregate_seeded import DEFAULT_ROW_SHARE, AggregateSeededSynthesizer

ROWS = 500
EPSILON = 1.0
SEEDS = range(8)
FAILURE = 1e-6
"""Chance, under the stated noise, that any of the runs falls outside the tolerance."""


def test_record_count_noise_keeps_eight_small_releases_near_n_without_empty_rows() -> None:
    sensitive = prepare(generate_demo_records(ROWS, seed=3))
    assert sensitive.n_records == ROWS
    epsilon_n = DpParameters(epsilon=EPSILON).record_count_epsilon
    # Discrete Laplace of scale b = 1/ε_N: P(|X| ≥ t) ≤ 2·e^{-t/b}/(1 + e^{-1/b}) < 2·e^{-t/b},
    # so with t = b·ln(2·|seeds|/FAILURE) all runs are within t but with chance < FAILURE.
    scale = 1.0 / epsilon_n
    tolerance = scale * math.log(2 * len(SEEDS) / FAILURE)
    assert tolerance < 0.4 * ROWS  # ≈ 166 records: the old scale of 200 had no such bound
    for seed in SEEDS:
        protected = DPMarginals(epsilon=EPSILON, reporting_length=2, seed=seed).fit(sensitive)
        assert abs(protected.record_count - ROWS) <= tolerance, (seed, protected.record_count)
        synthetic = AggregateSeededSynthesizer(seed=seed, sweeps=2).fit(protected).sample()
        # one record per protected record plus the spare share, less those left empty
        assert synthetic.height <= round(protected.record_count * DEFAULT_ROW_SHARE)
        assert synthetic.height >= protected.record_count - tolerance, (seed, synthetic.height)
        empty = ~synthetic.select(pl.any_horizontal(pl.all() != "")).to_series()
        assert int(empty.sum()) == 0, f"seed {seed}: {int(empty.sum())} all-empty rows"


@pytest.mark.parametrize("rows", [500, 5_000])
def test_default_record_count_noise_is_under_two_percent_from_500_rows(rows: int) -> None:
    epsilon_n = DpParameters(epsilon=EPSILON).record_count_epsilon
    p = math.exp(-epsilon_n)
    mean_absolute = 2 * p / (1 - p * p)  # E|X| of the discrete Laplace with parameter e^{-ε_N}
    assert mean_absolute < 0.02 * rows
