"""Issue 13, points 1-3: parameters and schemas that would void the guarantee, refused.

The refusals themselves are rows of the one table of bad inputs
(tests/integration/test_bad_inputs.py); here: what is released once a large value is
allowed, an inferred schema marked public, and DP-chosen bin edges.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from dpshowcase.cli.main import app

runner = CliRunner()

ROWS = 300
SEEDED = ["--seed", "1", "--reporting-length", "2"]

NUMERIC_SCHEMA = """
[[columns]]
name = "gender"

[[columns]]
name = "age"
kind = "numeric"
{edges}
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad_parameters")
    gender = ["female", "male", "female"] * (ROWS // 3)
    ages = [str(18 + (i * 7) % 60) for i in range(ROWS)]
    phones = [str(4_412_345_678_901 + 7919 * i) for i in range(ROWS)]  # 13 digits, distinct
    tables = {
        "cases": {"gender": gender, "age": ages},
        "phones": {"gender": gender, "phone": phones},
    }
    paths = {}
    for name, columns in tables.items():
        paths[name] = folder / f"{name}.csv"
        pl.DataFrame(columns).write_csv(paths[name])
    return paths


@pytest.fixture(scope="module")
def data_csv(files) -> Path:
    return files["cases"]


def test_allowing_large_values_states_them_in_the_bundle(data_csv: Path, tmp_path) -> None:
    output = tmp_path / "release"
    result = runner.invoke(
        app,
        [
            "release",
            str(data_csv),
            "--epsilon",
            "30",
            "--allow-large-epsilon",
            "--delta",
            "0.5",
            "--allow-large-delta",
            *SEEDED,
            "--output",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.output
    parameters = (output / "parameters.json").read_text(encoding="utf-8")
    assert '"allow_large_epsilon": true' in parameters
    assert '"allow_large_delta": true' in parameters
    readme = (output / "README.md").read_text(encoding="utf-8")
    assert "--allow-large-epsilon" in readme
    assert "--allow-large-delta" in readme


def test_inferred_schema_is_refused_until_marked_public(data_csv: Path, tmp_path) -> None:
    schema = tmp_path / "schema.toml"
    result = runner.invoke(app, ["schema", "infer", str(data_csv), "--output", str(schema)])
    assert result.exit_code == 0, result.output
    text = schema.read_text(encoding="utf-8")
    assert 'edges = "inferred"' in text
    assert "phone" not in text  # a numeric identifier is left out
    output = tmp_path / "release"
    args = ["release", str(data_csv), "--epsilon", "1", "--schema", str(schema), *SEEDED]
    refused = runner.invoke(app, [*args, "--output", str(output)])
    assert refused.exit_code == 2, refused.output
    assert "taken from the data" in refused.output
    assert not output.exists()
    schema.write_text(text.replace('edges = "inferred"', 'edges = "public"'), encoding="utf-8")
    accepted = runner.invoke(app, [*args, "--output", str(output)])
    assert accepted.exit_code == 0, accepted.output
    assert "Bin edges declared public" in (output / "README.md").read_text(encoding="utf-8")


def test_dp_edges_choose_the_edges_and_the_bundle_says_so(data_csv: Path, tmp_path) -> None:
    schema = tmp_path / "schema.toml"
    schema.write_text(NUMERIC_SCHEMA.format(edges="quantiles = 3"), encoding="utf-8")
    output = tmp_path / "release"
    result = runner.invoke(
        app,
        [
            "release",
            str(data_csv),
            "--epsilon",
            "2",
            "--dp-edges",
            "0.25",
            "--schema",
            str(schema),
            *SEEDED,
            "--output",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.output
    parameters = json.loads((output / "parameters.json").read_text(encoding="utf-8"))
    assert parameters["epsilon_edges"] == pytest.approx(0.5)
    edges = parameters["private_edges"]["columns"]["age"]["edges"]
    assert "0.5-DP for bin edges chosen from the data" in parameters["guarantee"]
    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    age = next(c for c in manifest["schema"]["columns"] if c["name"] == "age")
    assert age["edges"] == "dp"
    assert age["open_ended"] is True
    assert age["bins"] == edges
    readme = (output / "README.md").read_text(encoding="utf-8")
    assert "Bin edges chosen with differential privacy" in readme
    labels = set(pl.read_csv(output / "synthetic.csv", infer_schema=False)["age"].drop_nulls())
    assert not any(("18" in v.split("--")[0]) or "77" in v for v in labels)  # no data extreme
