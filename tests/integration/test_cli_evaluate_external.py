"""``dpshowcase evaluate --synthetic FILE --sensitive DATA``: another tool's synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from dpshowcase.cli.main import app
from dpshowcase.data.load import read_table
from dpshowcase.evaluate.external import load_external, nist_k_marginal

runner = CliRunner()


def test_pacsynth_industry_ma2019_scores_nists_published_492(nist_acs: Path):
    # The file as NIST published it: a nameless pandas index column, codes as floats
    # ("1.0"), 9 of ma2019's 24 columns. SDNist v2.3 report (tests/data/PROVENANCE.md): 492.
    pacsynth = nist_acs / "crc_pacsynth" / "pac_synth_e_1_industry_ma2019.csv"
    release, sensitive, notes = load_external(pacsynth, read_table(nist_acs / "ma2019.csv"))
    assert release.parameters["mode"] == "external"
    assert release.synthetic is not None
    assert release.synthetic.height == 3240
    assert any("row index" in note for note in notes)
    assert any("lack 15 column" in note for note in notes)
    result = nist_k_marginal(sensitive, release.synthetic, list(release.schema.column_names))
    assert (result["score"], result["group_column"], result["marginals"]) == (492, "PUMA", 28)
    assert result["per_group"] == {
        "25-00703": 49,
        "25-00503": 75,
        "25-02800": 194,
        "25-01000": 227,
        "25-01300": 251,
    }


@pytest.fixture
def files(tmp_path):
    sensitive = pl.DataFrame(
        {
            "age": [str(a) for a in [21, 35, 47, 52, 66, 23, 38, 41, 29, 60] * 6],
            "sex": ["1", "2"] * 30,
            "job": ["a", "b", "c", "a", "b", "c"] * 10,
        }
    )
    synthetic = pl.DataFrame(
        {
            "age": [str(a) for a in [22, 36, 48, 50, 65] * 4],
            "sex": ["1.0", "2.0"] * 10,
            "job": ["a", "b", "c", "d"] * 5,
        }
    )
    (tmp_path / "sensitive.csv").write_text(sensitive.write_csv(), encoding="utf-8")
    (tmp_path / "synthetic.csv").write_text(synthetic.write_csv(), encoding="utf-8")
    (tmp_path / "schema.toml").write_text(
        '[[columns]]\nname = "age"\nkind = "numeric"\nbins = [18, 40, 70]\n'
        '[[columns]]\nname = "sex"\n[[columns]]\nname = "job"\n',
        encoding="utf-8",
    )
    return tmp_path


def test_external_evaluation_from_a_folder_holding_only_synthetic_csv(files, tmp_path):
    folder = tmp_path / "their-bundle"
    folder.mkdir()
    (files / "synthetic.csv").rename(folder / "synthetic.csv")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["evaluate", "--release", str(folder), "--sensitive", str(files / "sensitive.csv"),
         "--schema", str(files / "schema.toml"), "--output", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["release"]["kind"] == "external synthetic data"
    assert "External synthetic data" in metrics["release"]["guarantee"]
    # "d" is a value no sensitive record holds: fabricated single attribute
    by_length = metrics["combinations"]["sensitive_vs_synthetic"]["by_length"]
    assert by_length[0]["length"] == 1
    assert by_length[0]["fabricated"] >= 1
    assert metrics["fidelity"]["nist_k_marginal"]["k"] == 2  # no PUMA: all pairs
    assert metrics["fidelity"]["marginals"]["k_marginal_score"] is not None
    assert "matches" in metrics["privacy"]
    assert "external synthetic data" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("synthetic", "message"),
    [
        ({"age": ["30"], "sex": ["1"], "job": ["a"], "extra": ["x"]}, "column 'extra'"),
        ({"age": ["thirty"], "sex": ["1"], "job": ["a"]}, "numeric in the schema"),
        ({"age": ["95"], "sex": ["1"], "job": ["a"]}, "outside its bin edges"),
        ({"age": ["30"], "sex": ["M"], "job": ["a"]}, "none of the sensitive data's values"),
    ],
)
def test_bad_external_files_get_one_sentence_and_exit_2(files, tmp_path, synthetic, message):
    bad = tmp_path / "bad.csv"
    pl.DataFrame(synthetic).write_csv(bad)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["evaluate", "--synthetic", str(bad), "--sensitive", str(files / "sensitive.csv"),
         "--schema", str(files / "schema.toml"), "--output", str(out)],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (out / "metrics.json").exists()


def test_synthetic_needs_sensitive(files, tmp_path):
    result = runner.invoke(
        app, ["evaluate", "--synthetic", str(files / "synthetic.csv"), "--output", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--sensitive" in result.output
