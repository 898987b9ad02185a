"""Exploring a written bundle: selections and the comparison of counts."""

from __future__ import annotations

import json

import polars as pl
import pytest

from dpshowcase.data.demo import generate_demo_records
from dpshowcase.errors import ParameterError
from dpshowcase.evaluate.comparability import agree
from dpshowcase.privacy.accounting import DpParameters
from dpshowcase.release.explore import ReleaseExplorer, compare_release
from dpshowcase.release.pipeline import ReleaseJob, run_release
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explore")
    frame = generate_demo_records(rows=800, seed=5).select(
        "gender", "ageBroad", "citizenship", "CountryOfExploitation", "isForcedLabour"
    )
    frame = frame.with_columns(
        pl.when(pl.col("isForcedLabour") == "1")
        .then(pl.lit("debt;threats"))
        .otherwise(pl.lit("threats"))
        .alias("means")
    )
    frame.write_csv(folder / "cases.csv")
    schema = Schema(
        columns=(
            ColumnSpec(name="gender"),
            ColumnSpec(name="ageBroad"),
            ColumnSpec(name="citizenship"),
            ColumnSpec(name="CountryOfExploitation"),
            ColumnSpec(name="means", kind=ColumnKind.MULTI_VALUE, delimiter=";"),
        )
    )
    job = ReleaseJob(
        data=folder / "cases.csv",
        output=folder / "release",
        dp=DpParameters(epsilon=6, reporting_length=2),
        schema=schema,
        seed=2,
        evaluate=False,
    )
    run_release(job)
    return folder / "release"


def test_select_counts_synthetic_records_and_reads_protected_counts(bundle):
    explorer = ReleaseExplorer(bundle)
    view = explorer.select([["gender", "Female"]])
    synthetic = explorer.synthetic
    assert view.synthetic == synthetic.filter(pl.col("gender") == "Female").height
    label = "gender:Female"
    assert view.protected == explorer.aggregates.filter(pl.col("combination") == label)["count"][0]
    assert "gender" not in view.columns
    means = {v.value: v for v in view.columns["means"]}
    both = synthetic.filter(
        (pl.col("gender") == "Female") & pl.col("means").str.contains("debt")
    ).height
    assert means["debt"].synthetic == both
    assert view.gap == pytest.approx((view.synthetic - view.protected) / view.protected)


def test_multi_value_columns_take_several_values(bundle):
    explorer = ReleaseExplorer(bundle)
    view = explorer.select([["means", "threats"], ["means", "debt"]])
    assert view.protected is not None
    assert "means" in view.columns
    with pytest.raises(ParameterError, match="one value"):
        explorer.select([["gender", "Female"], ["gender", "Male"]])
    with pytest.raises(ParameterError, match="no column"):
        explorer.select([["shoe", "42"]])


def test_beyond_the_reporting_length_there_is_no_protected_count(bundle):
    explorer = ReleaseExplorer(bundle)
    view = explorer.select([["gender", "Female"], ["means", "threats"]])
    assert all(v.protected is None for rows in view.columns.values() for v in rows)
    assert explorer.select([]).protected == explorer.record_count


def test_iso3_columns(bundle):
    codes = ReleaseExplorer(bundle).iso3_columns
    assert set(codes) == {"citizenship", "CountryOfExploitation"}
    assert codes["citizenship"].get("PHL") == "PH"


def test_compare_release(bundle):
    result = compare_release(bundle)
    assert result["reporting_length"] == 2
    first, second = result["lengths"]
    assert first["fabricated"] == 0
    assert 0 <= first["within_10_percent"] <= 1
    assert second["released"] > 0


def test_the_web_and_the_report_count_agreement_alike(bundle):
    """compare_release (the web app) and metrics.json (the report, the CLI) agree."""
    metrics = json.loads((bundle / "metrics.json").read_text(encoding="utf-8"))
    shares = metrics["comparability"]["agreement_by_length"]
    for entry in compare_release(bundle)["lengths"]:
        report = shares[str(entry["length"])]
        assert entry["released"] == report["released"]
        assert entry["within_10_percent"] == pytest.approx(report["share"], abs=1e-4)


@pytest.mark.parametrize(
    ("synthetic", "protected", "expected"),
    [(11, 10, True), (9, 10, True), (12, 10, False), (0, 0, True), (1, 0, False), (8, 10, False)],
)
def test_one_rule_of_agreement(synthetic, protected, expected):
    """Within 10%: |s − p| ≤ 0.1·p, so the edge (11 against 10) agrees; 0 agrees with 0."""
    assert bool(agree(synthetic, protected)) is expected
