"""Issue 13, points 1-3: parameters and schemas that would void the guarantee, refused.

One table: the input (command-line arguments, and the schema or config file they name),
the sentence expected, exit code 2, and nothing written to --output. The data are small
and made here; every case stops before any bundle is written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Case:
    """One bad input: CLI arguments (``{data}``, ``{dir}`` filled in), optional files."""

    id: str
    args: tuple[str, ...]
    expected: str
    """A regex the one-sentence error must match."""
    files: tuple[tuple[str, str], ...] = ()
    """(name, text) written into the case's folder before the run."""
    data: str = "cases"
    """Which data file: "cases" (gender, age) or "phones" (gender, a phone number)."""


CASES = (
    Case(
        "epsilon-above-20",
        ("--epsilon", "50"),
        r"ε = 50 is above 20.*--allow-large-epsilon",
    ),
    Case(
        "epsilon-above-20-in-config",
        ("--config", "{dir}/release.toml"),
        r"ε = 21 is above 20.*--allow-large-epsilon",
        files=(("release.toml", "epsilon = 21\n"),),
    ),
    Case(
        "allow-flag-not-a-boolean",
        ("--config", "{dir}/release.toml"),
        r"In the config file .*: allow_large_delta must be true or false",
        files=(("release.toml", 'epsilon = 1\nallow_large_delta = "yes"\n'),),
    ),
    Case(
        "delta-above-one-over-n",
        ("--epsilon", "1", "--delta", "0.5"),
        r"δ = 0\.5 is above 1/n = .* for the .* \(protected\) records.*--allow-large-delta",
    ),
    Case(
        "delta-above-one-over-public-n",
        ("--epsilon", "1", "--delta", "0.01", "--record-count-public", str(ROWS)),
        r"δ = 0\.01 is above 1/n = 0\.0033 for the 300 \(protected\) records",
    ),
    Case(
        "quantile-edges-from-the-data",
        ("--epsilon", "1", "--schema", "{dir}/schema.toml"),
        r"Column 'age' has bin edges taken from the data \(quantiles\).*edges = \"public\"",
        files=(("schema.toml", NUMERIC_SCHEMA.format(edges="quantiles = 4")),),
    ),
    Case(
        "inferred-edges",
        ("--epsilon", "1", "--schema", "{dir}/schema.toml"),
        r"Column 'age' has bin edges taken from the data \(edges = \"inferred\"\)",
        files=(
            (
                "schema.toml",
                NUMERIC_SCHEMA.format(
                    edges='bins = [30, 50]\nopen_ended = true\nedges = "inferred"'
                ),
            ),
        ),
    ),
    Case(
        "unknown-edge-source",
        ("--epsilon", "1", "--schema", "{dir}/schema.toml"),
        r"has edges = 'guessed'; write \"public\"",
        files=(("schema.toml", NUMERIC_SCHEMA.format(edges='bins = [30]\nedges = "guessed"')),),
    ),
    Case(
        "dp-edges-without-data-derived-edges",
        ("--epsilon", "1", "--dp-edges", "0.1"),
        r"A share of epsilon for bin edges was given \(--dp-edges\), but no column",
    ),
    Case(
        "dp-edges-share-out-of-range",
        ("--epsilon", "1", "--dp-edges", "1.5", "--schema", "{dir}/schema.toml"),
        r"edges_epsilon_proportion must be in \[0, 1\), got 1\.5",
        files=(("schema.toml", NUMERIC_SCHEMA.format(edges="quantiles = 4")),),
    ),
    Case(
        "dp-edges-with-k-anonymity",
        ("--k", "5", "--dp-edges", "0.1"),
        r"--dp-edges, --allow-large-epsilon and --allow-large-delta apply to differential",
    ),
    Case(
        "numeric-identifier",
        ("--epsilon", "1", "--schema", "{dir}/schema.toml"),
        r"Column 'phone' looks like an identifier \(300 distinct values in 300 rows\)",
        data="phones",
        files=(
            (
                "schema.toml",
                '[[columns]]\nname = "gender"\n\n[[columns]]\nname = "phone"\nkind = "numeric"\n'
                'bins = [0, 1e13]\nedges = "public"\n',
            ),
        ),
    ),
)


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


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_parameter_is_refused_with_one_sentence(case: Case, files, tmp_path) -> None:
    for name, text in case.files:
        (tmp_path / name).write_text(text, encoding="utf-8")
    output = tmp_path / "release"
    data = files[case.data]
    args = [a.format(dir=tmp_path) for a in case.args]
    result = runner.invoke(app, ["release", str(data), *args, *SEEDED, "--output", str(output)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    text = " ".join(result.output.split())
    assert text.count("Error: ") == 1, text
    sentence = text.split("Error: ", 1)[1]
    assert re.search(case.expected, sentence), sentence
    assert re.fullmatch(r"[^\n]+?[.!]", sentence), sentence  # one line, ending a sentence
    assert "Traceback" not in result.output
    assert not output.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


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
