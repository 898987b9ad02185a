"""The privacy ledger end to end: lineage releases, caps, crashes and withdrawals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from dpshowcase.cli.main import app
from dpshowcase.ledger.recorder import CRASH_ENV

runner = CliRunner()

PLANTED_ID = "SURVIVOR-PLANTED-7731"
PLANTED_VALUE = "ZZ-planted"
SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ledger")


@pytest.fixture(scope="module")
def cases(folder) -> Path:
    """400 records of 3 columns plus case ids; the planted person has 3 records (one id)
    with a value nobody else has, so at ε = 1000 it passes every threshold."""
    rng = np.random.default_rng(7)
    n = 400
    frame = pl.DataFrame(
        {
            "case_id": [f"C{i:05d}" for i in range(n)],
            "gender": rng.choice(["F", "M"], n).tolist(),
            "age": rng.choice(["0-17", "18-29", "30-47", "48+"], n).tolist(),
            "exploit": rng.choice(["labour", "sexual", "other"], n).tolist(),
        }
    )
    planted = pl.DataFrame(
        {
            "case_id": [PLANTED_ID] * 3,
            "gender": ["F"] * 3,
            "age": [PLANTED_VALUE] * 3,
            "exploit": ["labour"] * 3,
        }
    )
    path = folder / "cases.csv"
    pl.concat([frame, planted]).write_csv(path)
    return path


def release(data: Path, output: Path, ledger: Path, *extra: str):
    return runner.invoke(
        app,
        [
            "release", str(data), "--output", str(output), "--lineage", "cases",
            "--ledger", str(ledger), "--reporting-length", "2", *extra,
        ],
    )


def show(ledger: Path, name: str = "cases") -> dict:
    result = runner.invoke(app, ["ledger", "show", name, "--ledger", str(ledger), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_withdrawn_subject_never_appears_in_a_later_release(cases, folder):
    ledger = folder / "withdraw.db"
    high = ["--epsilon", "1000", "--allow-large-epsilon", "--delta", "1e-6"]
    high += ["--id-column", "case_id", "--seed", "3"]
    before = folder / "before"
    result = release(cases, before, ledger, *high)
    assert result.exit_code == 0, result.output
    # control: at ε = 1000 the planted value is released and synthesized
    assert PLANTED_VALUE in (before / "aggregates.csv").read_text()
    assert PLANTED_VALUE in (before / "synthetic.csv").read_text()

    ids = folder / "ids.txt"
    ids.write_text(f"{PLANTED_ID}\n", encoding="utf-8")
    result = runner.invoke(app, ["withdraw", "cases", "--ids", str(ids), "--ledger", str(ledger)])
    assert result.exit_code == 0, result.output
    assert PLANTED_ID not in result.output

    after = folder / "after"
    result = release(cases, after, ledger, *high)
    assert result.exit_code == 0, result.output
    aggregates = pl.read_csv(after / "aggregates.csv", infer_schema=False)
    assert not aggregates["combination"].str.contains(PLANTED_VALUE, literal=True).any()
    synthetic = pl.read_csv(after / "synthetic.csv", infer_schema=False)
    assert PLANTED_VALUE not in synthetic["age"].to_list()
    assert "case_id" not in synthetic.columns
    readme = (after / "README.md").read_text(encoding="utf-8")
    assert "withdrawal request recorded for this lineage up to" in readme
    assert "What cannot be undone" in readme
    # the ids are nowhere in plain text: not in the bundles, not in the ledger or its key
    files = [*before.rglob("*"), *after.rglob("*"), *folder.glob("withdraw.db*")]
    for path in files:
        if path.is_file():
            assert PLANTED_ID.encode() not in path.read_bytes(), path
    state = show(ledger)
    assert [r["kind"] for r in state["releases"]] == ["dp-seeded", "dp-seeded"]
    assert all(not r["inside_dp_accounting"] for r in state["releases"])


def test_withdrawals_need_an_id_column(cases, folder):
    ledger = folder / "noid.db"
    ids = folder / "noid.txt"
    ids.write_text("C00001\n", encoding="utf-8")
    assert runner.invoke(
        app, ["withdraw", "cases", "--ids", str(ids), "--ledger", str(ledger)]
    ).exit_code == 0
    output = folder / "noid"
    result = release(cases, output, ledger, "--epsilon", "2", "--delta", "1e-6")
    assert result.exit_code == 2
    assert "--id-column" in result.output
    assert not output.exists()


def test_releases_add_up_and_an_over_cap_release_is_refused(cases, folder):
    """Two releases at ε = 2 add up to ε ≈ 2.79 in zCDP (not 4): a cap of 2.5 refuses the
    second one, with nothing written."""
    ledger = folder / "cap.db"
    args = ["--epsilon", "2", "--delta", "1e-6", "--id-column", "case_id"]
    first = folder / "cap-1"
    assert release(cases, first, ledger, *args).exit_code == 0
    result = runner.invoke(
        app, ["ledger", "cap", "cases", "--epsilon", "2.5", "--ledger", str(ledger)]
    )
    assert result.exit_code == 0, result.output
    before_bytes = ledger.read_bytes()
    refused = folder / "cap-2"
    result = release(cases, refused, ledger, *args)
    assert result.exit_code == 2
    assert "is left (a release like this one fits up to ε=" in result.output
    fitting = float(result.output.split("fits up to ε=")[1].split(")")[0])
    assert 0.5 < fitting < 2  # zCDP: more than the ε≈0.51 left of the cap is spendable
    assert not refused.exists()
    assert not list(folder.glob(".cap-2*"))
    assert ledger.read_bytes() == before_bytes  # nothing written, not even a reservation
    state = show(ledger)
    assert [(r["kind"], r["status"], r["bundle_state"]) for r in state["releases"]] == [
        ("dp", "committed", "intact")
    ]
    manifest = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["lineage"]["ledger_entry"] == state["releases"][0]["entry"]
    # a k-anonymous release is listed, outside the DP accounting, and not capped
    k_out = folder / "cap-k"
    result = release(cases, k_out, ledger, "--k", "5", "--id-column", "case_id")
    assert result.exit_code == 0, result.output
    state = show(ledger)
    assert [r["inside_dp_accounting"] for r in state["releases"]] == [True, False]
    assert state["cumulative"]["releases"] == 1
    readme = (k_out / "README.md").read_text(encoding="utf-8")
    assert "outside the DP accounting" in readme


def _crash(cases: Path, output: Path, ledger: Path, point: str) -> int:
    env = {**os.environ, CRASH_ENV: point, "PYTHONPATH": SRC}
    code = (
        "from dpshowcase.cli.main import app; import sys; "
        "sys.argv = ['dpshowcase'] + sys.argv[1:]; app()"
    )
    args = [
        "release", str(cases), "--output", str(output), "--lineage", "cases", "--ledger",
        str(ledger), "--reporting-length", "2", "--epsilon", "2", "--delta", "1e-6",
        "--id-column", "case_id",
    ]
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True)
    return done.returncode


@pytest.mark.parametrize(
    ("point", "status", "bundle"),
    [("reserved", "failed (interrupted)", "none"), ("committed", "committed", "missing")],
)
def test_a_killed_release_leaves_a_consistent_ledger(cases, folder, point, status, bundle):
    ledger = folder / f"crash-{point}.db"
    output = folder / f"crash-{point}"
    assert _crash(cases, output, ledger, point) == -signal.SIGKILL
    assert not output.exists()  # killed before the rename: no bundle
    state = show(ledger)  # opening the ledger reconciles the dead reservation
    assert [(r["status"], r["bundle_state"]) for r in state["releases"]] == [(status, bundle)]
    # it still counts, conservatively: noise may have been drawn
    assert state["cumulative"]["releases"] == 1
    assert state["cumulative"]["rho"] == pytest.approx(state["releases"][0]["rho"])


def test_exact_counts_are_listed_outside_the_dp_accounting_and_honour_withdrawals(cases, folder):
    ledger = folder / "exact.db"
    ids = folder / "exact-ids.csv"
    pl.DataFrame({"case_id": [PLANTED_ID]}).write_csv(ids)
    result = runner.invoke(
        app,
        ["withdraw", "cases", "--ids", str(ids), "--column", "case_id", "--ledger", str(ledger)],
    )
    assert result.exit_code == 0, result.output
    output = folder / "exact.csv"
    result = runner.invoke(
        app,
        [
            "aggregate", str(cases), "--output", str(output), "-r", "2", "--lineage", "cases",
            "--ledger", str(ledger), "--id-column", "case_id",
        ],
    )
    assert result.exit_code == 0, result.output
    text = output.read_text(encoding="utf-8")
    assert PLANTED_VALUE not in text
    assert "case_id" not in text
    state = show(ledger)
    assert [(r["kind"], r["status"], r["bundle_state"], r["inside_dp_accounting"])
            for r in state["releases"]] == [("exact", "committed", "intact", False)]
    assert state["cumulative"]["releases"] == 0
