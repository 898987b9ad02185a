"""A tiny hand-made release: protected aggregates, a schema and synthetic records."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
import pytest

from dpshowcase.aggregate.count import CombinationCounts
from dpshowcase.aggregate.protected import LengthNoise, NoiseDescription, ProtectedAggregates
from dpshowcase.data.attributes import AttributeIndex
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema
from dpshowcase.testing import protected_aggregates_for_tests

NOISE = NoiseDescription(
    (
        LengthNoise(length=1, noise_scale=6.2, threshold=25.0, sensitivity=4),
        LengthNoise(length=2, noise_scale=7.6, threshold=0.0, sensitivity=6),
    )
)
"""The noise the hand-made parameters below state."""

GUARANTEE = "(ε=1, δ=1e-06)-differential privacy for each record (hand-made for tests)."

# Attribute columns in schema order; "empty" has no released attribute.
COLUMNS = ("gender", "age", "means", "empty")
ATTRIBUTES = (
    (0, "Female"),
    (0, "Male"),
    (1, "0--17"),
    (1, "18--99"),
    (2, "debt"),
    (2, "threats"),
)
# (attribute ids, count): single attributes, then pairs from distinct columns.
COMBINATIONS = (
    ((0,), 60),
    ((1,), 40),
    ((2,), 30),
    ((3,), 70),
    ((4,), 25),
    ((5,), 20),
    ((0, 2), 20),
    ((0, 3), 40),
    ((1, 3), 30),
    ((0, 4), 12),
    ((4, 5), 9),
)


def make_schema(multi_delimiter: str = ";", subject_id: str | None = None) -> Schema:
    """gender and empty categorical, age numeric (explicit bins), means multi-value."""
    return Schema(
        columns=(
            ColumnSpec(name="gender"),
            ColumnSpec(name="age", kind=ColumnKind.NUMERIC, bins=(0, 18, 100)),
            ColumnSpec(name="means", kind=ColumnKind.MULTI_VALUE, delimiter=multi_delimiter),
            ColumnSpec(name="empty"),
        ),
        subject_id=subject_id,
    )


def make_aggregates(*, private: bool = True, mode: str = "dp") -> ProtectedAggregates:
    """Protected aggregates with DP-style parameters (as DPMarginals writes them)."""
    index = AttributeIndex(
        columns=COLUMNS,
        multi_value=(False, False, True, False),
        attribute_column=np.array([c for c, _ in ATTRIBUTES], dtype=np.int32),
        attribute_value=tuple(v for _, v in ATTRIBUTES),
    )
    combos = np.full((len(COMBINATIONS), 2), -1, dtype=np.int32)
    for row, (ids, _) in enumerate(COMBINATIONS):
        combos[row, : len(ids)] = ids
    counts = CombinationCounts(
        attributes=index,
        combinations=combos,
        lengths=np.array([len(ids) for ids, _ in COMBINATIONS], dtype=np.int8),
        counts=np.array([c for _, c in COMBINATIONS], dtype=np.int64),
        reporting_length=2,
    )
    parameters = {
        "guarantee": GUARANTEE,
        "privacy_unit": "record",
        "epsilon": 1.0,
        "epsilon_record_count": 0.005,
        "epsilon_marginals": 0.995,
        "delta": 1e-6,
        "delta_inferred": False,
        "reporting_length": 2,
        "percentile_percentage": 99.0,
        "threshold_mode": "adaptive",
        "record_count_public": False,
        "lengths": [
            {"length": 1, "sigma": 3.1, "sensitivity": np.int64(4), "noise_scale": 6.2,
             "threshold": 25.0, "candidates": 9, "released": 6},
            {"length": 2, "sigma": 3.1, "sensitivity": 6, "noise_scale": 7.6,
             "threshold": 0.0, "candidates": 13, "released": 5},
        ],
        "noise_source": "hand-made",
        "protected_record_count": 101,
    }  # fmt: skip
    return protected_aggregates_for_tests(
        counts,
        record_count=101,
        mode=mode,  # type: ignore[arg-type]
        guarantee=GUARANTEE,
        parameters=parameters if mode == "dp" else {"resolution": 10},
        noise=NOISE if mode == "dp" else None,
        private=private,
    )


def make_synthetic() -> pl.DataFrame:
    """Synthetic records as the synthesizer returns them (no column for "empty")."""
    return pl.DataFrame(
        {
            "gender": ["Female", "Male", "", "Female"],
            "age": ["18--99", "18--99", "0--17", ""],
            "means": ["debt;threats", "", "debt", "threats"],
        }
    )


INPUT_COLUMNS = ("caseId", "means", "age", "notes", "gender", "empty")
"""The input file's columns: another order, plus columns the schema does not use."""


@pytest.fixture
def aggregates_factory() -> Callable[..., ProtectedAggregates]:
    """make_aggregates(private=..., mode=...)."""
    return make_aggregates


@pytest.fixture
def schema_factory() -> Callable[..., Schema]:
    """make_schema(multi_delimiter=..., subject_id=...)."""
    return make_schema


@pytest.fixture
def aggregates() -> ProtectedAggregates:
    return make_aggregates()


@pytest.fixture
def schema() -> Schema:
    return make_schema()


@pytest.fixture
def synthetic() -> pl.DataFrame:
    return make_synthetic()


@pytest.fixture
def input_columns() -> list[str]:
    return list(INPUT_COLUMNS)
