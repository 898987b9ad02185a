"""A small real release (demo records, DP marginals, synthesis, bundle) for evaluation tests."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from dpshowcase.data.demo import generate_demo_records
from dpshowcase.data.prepare import prepare
from dpshowcase.privacy.marginals import DPMarginals
from dpshowcase.release.bundle import write_release
from dpshowcase.schema.model import ColumnSpec, Schema
from dpshowcase.synthesize.aggregate_seeded import AggregateSeededSynthesizer

COLUMNS = (
    "gender",
    "ageBroad",
    "citizenship",
    "CountryOfExploitation",
    "traffickMonths",
    "isForcedLabour",
    "isSexualExploit",
    "meansThreats",
    "dataSource",
)


@pytest.fixture(scope="session")
def demo_frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    """1,200 fictitious records used for a release, and 400 others (a holdout)."""
    frame = generate_demo_records(rows=1_600, seed=21).select(COLUMNS)
    return frame.head(1_200), frame.tail(400)


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory: pytest.TempPathFactory, demo_frames) -> Path:
    """A seeded DP release bundle (ε = 4, R = 3) of the 1,200 records."""
    sensitive, _ = demo_frames
    schema = Schema(columns=tuple(ColumnSpec(name=c) for c in COLUMNS))
    data = prepare(sensitive, schema)
    aggregates = DPMarginals(epsilon=4, reporting_length=3, seed=3).fit(data)
    synthetic = AggregateSeededSynthesizer(seed=3, sweeps=3).fit(aggregates).sample()
    output = tmp_path_factory.mktemp("release") / "bundle"
    write_release(
        output,
        aggregates=aggregates,
        synthetic=synthetic,
        schema=data.schema,
        input_columns=list(COLUMNS),
        source_name="demo.csv",
    )
    return output
