"""``dpshowcase evaluate`` and ``dpshowcase compare`` from the command line."""

from __future__ import annotations

import json
import re
import stat

import pytest
from typer.testing import CliRunner

from dpshowcase.cli.main import app
from dpshowcase.data.demo import generate_demo_records

runner = CliRunner()
COLUMNS = ["gender", "ageBroad", "traffickMonths", "CountryOfExploitation", "isForcedLabour"]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-evaluate")
    data = root / "cases.csv"
    generate_demo_records(rows=800, seed=4).select(COLUMNS).write_csv(data)
    bundle = root / "bundle"
    result = runner.invoke(
        app, ["release", str(data), "--epsilon", "4", "--seed", "2", "--output", str(bundle)]
    )
    assert result.exit_code == 0, result.output
    return data, bundle


def test_evaluate_writes_report_and_metrics(made, tmp_path):
    data, bundle = made
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["evaluate", "--release", str(bundle), "--sensitive", str(data), "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["public"] is False
    assert metrics["fidelity"]["marginals"]["k_marginal_score"] > 0
    assert (out / "report.html").stat().st_size > 1_000_000  # Plotly is inline
    # the confidential report is readable by its owner only
    assert stat.S_IMODE((out / "report.html").stat().st_mode) & 0o077 == 0
    assert "Confidential" in result.output
    # a second run refuses to overwrite, then --overwrite replaces
    again = runner.invoke(app, ["evaluate", "--release", str(bundle), "--output", str(out)])
    assert again.exit_code == 2
    assert "already holds a report" in again.output
    public = runner.invoke(
        app, ["evaluate", "--release", str(bundle), "--output", str(out), "--overwrite"]
    )
    assert public.exit_code == 0, public.output
    assert json.loads((out / "metrics.json").read_text(encoding="utf-8"))["public"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--release", "missing-folder"], "does not exist"),
        (["--holdout", "x.csv"], "--holdout needs --sensitive"),
        (["--resolution", "0"], "--resolution"),
    ],
)
def test_evaluate_errors_are_one_line(made, tmp_path, args, message):
    _, bundle = made
    base = ["evaluate", "--output", str(tmp_path / "o")]
    if "--release" not in args:
        base += ["--release", str(bundle)]
    result = runner.invoke(app, base + args)
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "o").exists()


def test_compare_selection_and_disagreements(made):
    _, bundle = made
    result = runner.invoke(
        app,
        [
            "compare",
            str(bundle),
            "--select",
            "ageBroad=39--47",
            "--select",
            "traffickMonths=13--24 (1-2 yrs)",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    selection = data["selection"]
    assert selection["combination"] == "ageBroad:39--47;traffickMonths:13--24 (1-2 yrs)"
    assert selection["label"] in ("agrees", "differs", "not released")
    assert isinstance(selection["synthetic_count"], int)
    # the DP bundle's aggregates.csv holds the synthetic records' own counts of longer
    # combinations (except those parameters.json says it raised towards their
    # measurement) and the measured singles: only those can disagree, and a row of
    # difference 0 is no disagreement
    worst = data["largest_disagreements"]
    assert len(worst) <= 10
    assert all(row["difference"] != 0 for row in worst)
    raised = json.loads((bundle / "parameters.json").read_text(encoding="utf-8")).get(
        "raised_to_measurement", {}
    )
    longer = [row for row in worst if row["length"] > 1]
    assert len(longer) <= sum(raised.values())


def test_compare_longer_than_r_and_tables(made):
    _, bundle = made
    select = ["--select", "gender=Female", "--select", "ageBroad=39--47"]
    select += ["--select", "traffickMonths=13--24 (1-2 yrs)", "--select", "isForcedLabour=1"]
    result = runner.invoke(app, ["compare", str(bundle), *select, "--top", "3"])
    assert result.exit_code == 0, result.output
    assert "not released" in result.output
    # either the table of real disagreements or the sentence saying there are none
    assert ("disagree most" in result.output) != (
        "No released combination disagrees" in result.output
    )
    assert not re.search(r"[│|]\s*\+0\s*[│|]", result.output)  # no row of difference 0


def test_compare_errors(made):
    _, bundle = made
    result = runner.invoke(app, ["compare", str(bundle), "--select", "nope=1"])
    assert result.exit_code == 2
    assert "no column 'nope'" in result.output
    result = runner.invoke(app, ["compare", str(bundle), "--select", "gender"])
    assert result.exit_code == 2
    assert "column=value" in result.output
