"""No CSV the tool writes can run a formula in a spreadsheet; the tool still reads its own.

The input names a column ``=1+1`` and holds values such as ``=HYPERLINK(…)``,
``@SUM(…)``, a carriage return before ``=`` and blanks before ``-``, each frequent
enough to pass any threshold. Every CSV written from it (the DP and k-anonymous bundles,
``aggregate``, ``kanonymize``, ``kanon-compare``, the web zip) is read cell by cell with
Python's csv module: no header or cell may start like a formula, while the numbers
``-5`` (a value) and the counts stay numbers.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dpshowcase.cli.main import app
from dpshowcase.release.package import write_zip

runner = CliRunner()

HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\r=1+2",
    "  -2+3",
    "-5",
    "+7",
]
_RUNNABLE = re.compile(r"^(?:[\s\x00]*[=+\-@]|[\t\r\n\x00])")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def _runnable_cells(text: str) -> list[str]:
    """Cells (header included) a spreadsheet would run as a formula."""
    return [
        cell
        for row in csv.reader(io.StringIO(text, newline=""))
        for cell in row
        if _RUNNABLE.match(cell) and not _NUMBER.match(cell)
    ]


@pytest.fixture(scope="module")
def hostile_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("injection")
    path = folder / "hostile.csv"
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["=1+1", "@kind", "plain"])
    for i in range(600):
        writer.writerow([HOSTILE[i % len(HOSTILE)], HOSTILE[(i // 7) % 3], f"v{i % 2}"])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def dp_bundle(hostile_csv: Path) -> Path:
    output = hostile_csv.parent / "dp"
    result = runner.invoke(
        app, ["release", str(hostile_csv), "--epsilon", "4", "--seed", "1", "-r", "2",
              "-o", str(output)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return output


def test_the_dp_bundle_csv_files_run_no_formula(dp_bundle: Path) -> None:
    for name in ("synthetic.csv", "aggregates.csv", "noisy_aggregates.csv"):
        text = (dp_bundle / name).read_text(encoding="utf-8")
        assert _runnable_cells(text) == [], name
    synthetic = (dp_bundle / "synthetic.csv").read_text(encoding="utf-8")
    header = next(csv.reader(io.StringIO(synthetic)))
    assert header == ["'=1+1", "'@kind", "plain"]
    cells = {c for row in csv.reader(io.StringIO(synthetic, newline="")) for c in row}
    assert "-5" in cells  # a number stays a number
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in cells
    assert {"'=1+2", "'-2+3"} <= cells  # values are read stripped of blanks, then guarded
    counts = list(csv.DictReader(io.StringIO((dp_bundle / "aggregates.csv").read_text())))
    assert all(int(row["count"]) >= 1 for row in counts)


def test_the_tool_reads_its_guarded_files_back(dp_bundle: Path) -> None:
    """compare finds the original (unguarded) value, and the web zip ships the same bytes."""
    selection = f"@kind={HOSTILE[1]}"
    result = runner.invoke(app, ["compare", str(dp_bundle), "--select", selection, "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)["selection"]
    assert found["protected_count"] > 0  # read back from the guarded aggregates.csv
    assert found["synthetic_count"] == found["protected_count"]  # and from synthetic
    buffer = io.BytesIO()
    write_zip(dp_bundle, buffer)
    with zipfile.ZipFile(buffer) as archive:
        for name in ("synthetic.csv", "aggregates.csv"):
            assert archive.read(f"release/{name}") == (dp_bundle / name).read_bytes()


def test_k_anonymous_and_count_outputs_run_no_formula(hostile_csv: Path) -> None:
    folder = hostile_csv.parent
    commands = {
        "k-bundle": ["release", str(hostile_csv), "--k", "5", "--seed", "1", "-r", "2",
                     "-o", str(folder / "k")],
        "aggregate": ["aggregate", str(hostile_csv), "-r", "2", "-o", str(folder / "counts.csv")],
        "kanonymize": ["kanonymize", str(hostile_csv), "-q", "=1+1,@kind", "-k", "5", "-r", "2",
                       "-o", str(folder / "kanon.csv")],
    }  # fmt: skip
    for name, args in commands.items():
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (name, result.output)
    for path in (
        folder / "k" / "synthetic.csv",
        folder / "k" / "aggregates.csv",
        folder / "counts.csv",
        folder / "kanon.csv",
    ):
        text = path.read_text(encoding="utf-8")
        assert _runnable_cells(text) == [], path.name
        assert text.startswith(("'=1+1", "combination")), path.name
