"""k-anonymity on the command line, end to end on demo data: releases, the classic
baseline and the comparison, plus clear refusals that leave nothing behind."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from dpshowcase.cli.main import app
from dpshowcase.release.bundle import BUNDLE_FILES

runner = CliRunner()

K_ARGS = ["--k", "10", "--seed", "1", "--reporting-length", "2"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli_kanon")


@pytest.fixture(scope="module")
def demo_csv(folder) -> Path:
    path = folder / "demo.csv"
    result = runner.invoke(app, ["demo-data", "--rows", "3000", "--output", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(
    scope="module", params=["row-seeded", "value-seeded", "unseeded", "aggregate-seeded"]
)
def released(request, demo_csv, folder):
    output = folder / f"release-{request.param}"
    result = runner.invoke(
        app, ["release", str(demo_csv), *K_ARGS, "--mode", request.param, "-o", str(output)]
    )
    assert result.exit_code == 0, result.output
    return request.param, result, output


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_a_k_release_writes_the_bundle(released, demo_csv):
    _, _, output = released
    assert {p.name for p in output.iterdir()} >= set(BUNDLE_FILES)
    header = demo_csv.read_text(encoding="utf-8").splitlines()[0]
    assert (output / "synthetic.csv").read_text(encoding="utf-8").splitlines()[0] == header


def test_parameters_state_the_k_guarantee_in_one_sentence(released):
    mode, _, output = released
    parameters = read_json(output / "parameters.json")
    guarantee = parameters["guarantee"]
    assert "describes at least 10 records of the sensitive data" in guarantee
    assert guarantee.count(". ") == 0
    assert guarantee.endswith(".")
    assert parameters["mode"] == "k-anonymity"
    assert parameters["synthesizer"] == mode
    assert parameters["k"] == 10
    assert parameters["not_for_release"] is False
    assert parameters["protected_record_count"] == 3000
    assert parameters["guarantee_check"]["passed"] is True
    manifest = read_json(output / "manifest.json")
    assert manifest["guarantee"] == guarantee


def test_released_counts_are_multiples_of_k_and_synthetic_counts_follow(released):
    mode, _, output = released
    counts = pl.read_csv(output / "aggregates.csv", schema_overrides={"combination": pl.String})
    assert (counts["count"] % 10 == 0).all()
    assert (counts["count"] >= 10).all()
    singles = read_json(output / "parameters.json")["synthetic_vs_released"][0]
    if mode != "aggregate-seeded":
        assert singles["synthetic_equal_to_released"] == singles["released"]


def test_the_console_shows_stages_and_the_check(released):
    mode, result, _ = released
    for stage in ("Reading and encoding", "Counting combinations", "Checking the guarantee"):
        assert stage in result.output
    assert "Synthesizing" in result.output
    assert "Guarantee: Every released count" in result.output
    assert re.search(r"Checked: all [\d,]+ combinations of up to 2 attributes", result.output)
    assert f"({mode})" in result.output


def test_the_datasheet_describes_k_anonymity_without_noise(released):
    mode, _, output = released
    text = (output / "README.md").read_text(encoding="utf-8")
    assert "**k = 10:**" in text
    assert "Nothing is fabricated" in text
    assert "noisy" not in text.split("## Caveats")[1]
    assert "noisy_aggregates.csv" not in text, "a k-anonymous bundle has no noisy counts"
    assert sorted(p.name for p in output.iterdir()) == _listed_files(text)
    assert ("Whole records" in text) == (mode != "aggregate-seeded")


def _listed_files(datasheet: str) -> list[str]:
    """The file names in the datasheet's table of files."""
    table = datasheet.split("## Files")[1].split("\n## ")[0]
    cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return sorted(name.strip().strip("`") for cell in cells for name in cell.split(","))


MISSING = "no-such-file.csv"  # parameters are checked before the data are read


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([MISSING, "--k", "1"], "k must be a whole number of at least 2"),
        ([MISSING, "--k", "0"], "k must be a whole number of at least 2"),
        ([MISSING, "--k", "10", "--mode", "seeded"], "Unknown mode 'seeded'; choose one of"),
        ([MISSING, "--k", "10", "--epsilon", "4"], "Give either --epsilon .* or --k .*not both"),
        ([MISSING], "No privacy budget was given; pass --epsilon .* or --k"),
        ([MISSING, "--mode", "unseeded"], "--mode chooses a k-anonymity synthesizer; give --k"),
        ([MISSING, "--k", "10", "--delta", "1e-6"], "--delta applies to differential privacy"),
        ([MISSING, "--k", "10", "-r", "0"], "reporting length must be a whole number"),
        ([MISSING, "--k", "10"], "no-such-file.csv does not exist"),
        (["DEMO", "--k", "10", "-r", "40"], "beyond what can be counted"),
    ],
    ids=[
        "k-1",
        "k-0",
        "unknown-mode",
        "both",
        "neither",
        "mode-without-k",
        "dp-flag",
        "length-0",
        "no-file",
        "length-40",
    ],
)
def test_bad_parameters_fail_with_one_sentence_and_no_output(
    args, message, demo_csv, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    args = [str(demo_csv) if a == "DEMO" else a for a in args]
    output = tmp_path / "out"
    result = runner.invoke(app, ["release", *args, "--output", str(output)])
    assert result.exit_code == 2, result.output
    error_lines = [line for line in result.output.splitlines() if "Error:" in line]
    assert len(error_lines) == 1, result.output
    assert re.search(message, error_lines[0]), result.output
    assert "Traceback" not in result.output
    assert not output.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_kanonymize_reports_and_writes_the_anonymized_records(demo_csv, tmp_path):
    hierarchy = tmp_path / "ages.toml"
    hierarchy.write_text('[ageBroad]\n"0--8" = "0--17"\n"9--17" = "0--17"\n', encoding="utf-8")
    output = tmp_path / "anonymized.csv"
    result = runner.invoke(
        app,
        [
            "kanonymize",
            str(demo_csv),
            "--quasi",
            "gender,ageBroad,citizenship",
            "--k",
            "11",
            "--hierarchy",
            str(hierarchy),
            "--output",
            str(output),
            "-r",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    match = re.search(
        r"k = 11 on gender, ageBroad, citizenship: 3,000 records, ([\d,]+)", result.output
    )
    assert match, result.output
    assert "dropped" in result.output
    assert "What a release of the k-anonymized records would lose" in result.output
    kept = int(re.search(r"([\d,]+) kept in", result.output).group(1).replace(",", ""))
    table = pl.read_csv(output, infer_schema=False)
    assert table.height == kept
    assert table.columns == demo_csv.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert not {"0--8", "9--17"} & set(table["ageBroad"].drop_nulls().to_list())
    sizes = table.fill_null("").group_by("gender", "ageBroad", "citizenship").len()
    assert (sizes["len"] >= 11).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quasi", "gender,nationality", "--k", "11"], "Unknown quasi-identifier 'nationality'"),
        (["--quasi", "gender", "--k", "1"], "k must be a whole number of at least 2"),
        (["--quasi", "gender", "--k", "5", "--hierarchy", "none.toml"], "none.toml does not exist"),
        (["--quasi", "gender", "--k", "5", "--output", "x.txt"], "name the output .csv"),
    ],
    ids=["unknown-quasi", "k-1", "no-hierarchy", "bad-output"],
)
def test_kanonymize_refuses_bad_input(args, message, demo_csv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["kanonymize", str(demo_csv), *args])
    assert result.exit_code == 2, result.output
    assert re.search(message, result.output), result.output
    assert "Traceback" not in result.output
    assert not list(tmp_path.iterdir())


def test_kanon_compare_puts_the_three_side_by_side(demo_csv, tmp_path):
    output = tmp_path / "compare.csv"
    result = runner.invoke(
        app,
        [
            "kanon-compare",
            str(demo_csv),
            "--k",
            "10",
            "--quasi",
            "gender,ageBroad,citizenship",
            "--epsilon",
            "4",
            "--reporting-length",
            "2",
            "--seed",
            "1",
            "--output",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.output
    for heading in ("k-anonymized", "DP synthetic", "length 2: preserved", "fabricated"):
        assert heading in result.output
    assert "not for publication" in result.output
    table = pl.read_csv(output)
    assert table["method"].unique(maintain_order=True).to_list() == [
        "k-anonymized (baseline)",
        "k-anonymous synthetic (row-seeded)",
        "DP synthetic (ε = 4)",
    ]
    assert table.height == 3 * 2
    assert set(table["length"].to_list()) == {1, 2}
    synthetic = table.filter(pl.col("method").str.starts_with("k-anonymous"))
    assert (synthetic["fabricated"] == 0).all()
    assert (synthetic["preserved"] == synthetic["preserved_releasable"]).all()
    baseline = table.filter(pl.col("method").str.starts_with("k-anonymized"))
    assert (baseline["rows"] < 3000).all()
