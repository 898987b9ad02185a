"""``dpshowcase release --synthesizer aim|mst``: the same bundle as every DP release."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

pytest.importorskip("mbi")

from dpshowcase.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(3)
    n = 500
    colour = rng.integers(0, 3, n)
    frame = pl.DataFrame(
        {
            "colour": np.array(["red", "green", "blue"])[colour],
            "size": np.array(["S", "M", "L"])[(colour + (rng.random(n) < 0.2)) % 3],
            "shape": np.array(["round", "square"])[rng.integers(0, 2, n)],
        }
    )
    path = tmp_path_factory.mktemp("aim") / "data.csv"
    frame.write_csv(path)
    return path


@pytest.mark.parametrize("synthesizer", ["mst", "aim"])
def test_release_with_a_model_synthesizer_writes_a_full_bundle(data, tmp_path, synthesizer):
    out = tmp_path / "bundle"
    result = runner.invoke(
        app,
        ["release", str(data), "--epsilon", "4", "--delta", "1e-5", "--seed", "1",
         "--synthesizer", synthesizer, "--output", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    parameters = json.loads((out / "parameters.json").read_text(encoding="utf-8"))
    assert parameters["synthesizer"] == synthesizer
    assert parameters["mode"] == "dp"
    assert parameters["not_for_release"] is True
    assert parameters["rho_spent"] == pytest.approx(parameters["rho"], rel=1e-8)
    # δ given: the record count has no budget of its own, all of ε goes to the model
    assert parameters["epsilon_record_count"] == 0.0
    assert parameters["epsilon_marginals"] == 4.0
    assert parameters["record_count_source"].startswith("estimated from the noisy 1-way")
    synthetic = pl.read_csv(out / "synthetic.csv", infer_schema=False)
    assert synthetic.columns == ["colour", "size", "shape"]
    assert synthetic.height == parameters["protected_record_count"]
    # the published aggregates are the records' own counts: they agree exactly
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    agreement = metrics["comparability"]["agreement_by_length"]
    assert all(v["share"] == 1.0 for v in agreement.values())
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "Which synthesizer?" in readme
    assert "number of records was estimated from the noisy 1-way marginals" in readme
    assert synthesizer.upper() in readme
    assert "Which synthesizer?" in (out / "report.html").read_text(encoding="utf-8")


def test_unknown_synthesizer_is_refused_before_reading(data, tmp_path):
    result = runner.invoke(
        app,
        ["release", str(data), "--epsilon", "1", "--synthesizer", "gan",
         "--output", str(tmp_path / "x")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "unknown" in result.output
    assert not (tmp_path / "x").exists()


def test_declared_categories_leave_no_empty_cell_and_an_inferred_delta_counts_first(
    data, tmp_path
):
    schema = tmp_path / "schema.toml"
    schema.write_text(
        '[[columns]]\nname = "colour"\ncategories = ["red", "green", "blue", "violet"]\n\n'
        '[[columns]]\nname = "size"\n\n'
        '[[columns]]\nname = "shape"\ncategories = ["round", "square"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "bundle"
    result = runner.invoke(
        app,
        ["release", str(data), "--schema", str(schema), "--epsilon", "2", "--seed", "2",
         "--synthesizer", "mst", "--output", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    parameters = json.loads((out / "parameters.json").read_text(encoding="utf-8"))
    # no δ given: it is inferred from a count drawn first with ε_N = 0.1
    assert parameters["delta_inferred"] is True
    assert parameters["epsilon_record_count"] == pytest.approx(0.1)
    assert parameters["suppressed_values"]["colour"] == 0
    synthetic = pl.read_csv(out / "synthetic.csv", infer_schema=False)
    assert synthetic.get_column("colour").null_count() == 0
    assert set(synthetic.get_column("colour").to_list()) <= {"red", "green", "blue", "violet"}
    assert synthetic.get_column("shape").null_count() == 0
