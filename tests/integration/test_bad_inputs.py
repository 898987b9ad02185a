"""Bad inputs in one table: one sentence, exit code 2, nothing written.

The rows: parameters refused before any data are read (formerly in test_cli_release),
the writing-outputs and honest-answer inputs of issue 13 (points 4 and 7), and the
guarantee-voiding parameters of points 1-3 once they land (test_bad_parameters).

Each row is a command line (placeholders in capitals are filled in per test), the
regular expression its one error sentence must match, and the exit code. Before the
command runs, the test folder and the shared inputs are photographed (every path, size
and modification time); afterwards they must be exactly as they were: no output, no
hidden temporary folder, no lock file, no deleted or changed file.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from dpshowcase._io.atomic import output_lock
from dpshowcase.cli.main import app
from dpshowcase.schema.model import Schema
from dpshowcase.schema.toml_io import schema_to_dict

runner = CliRunner()

TOO_LARGE_SEED = str(2**64)


@dataclass(frozen=True)
class Case:
    """One bad input: the command, its expected sentence, its exit code."""

    id: str
    args: tuple[str, ...]
    message: str
    code: int = 2
    setup: Callable[[dict[str, Path], pytest.MonkeyPatch], Callable[[], None] | None] | None = (
        None
    )
    """Prepares the situation (e.g. another run holding the output); returns a cleanup."""
    files: tuple[tuple[str, str], ...] = ()
    """(name, text) written into the test's folder (``DIR``) before the run."""


def _hold_the_output(paths: dict[str, Path], _: pytest.MonkeyPatch) -> Callable[[], None]:
    """Another run (a thread here, another process in the unit test) writes OUT."""
    locked, done = threading.Event(), threading.Event()

    def other_run() -> None:
        with output_lock(paths["OUT"]):
            locked.set()
            done.wait(60)

    thread = threading.Thread(target=other_run)
    thread.start()
    assert locked.wait(30)

    def cleanup() -> None:
        done.set()
        thread.join(30)

    return cleanup


def _full_disk(_: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every CSV or Parquet write fails as on a full disk."""

    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pl.DataFrame, "write_csv", no_space)
    monkeypatch.setattr(pl.DataFrame, "write_parquet", no_space)


NOT_A_BUNDLE = r"--overwrite replaces only a release bundle written by dpshowcase, and .* holds no"

MISSING = "no-such-file.csv"  # parameters are checked before the data are read
TWO_COLUMNS = ("two.toml", '[[columns]]\nname = "gender"\n\n[[columns]]\nname = "ageBroad"\n')


def _release(*args: str) -> tuple[str, ...]:
    return ("release", *args, "--output", "OUT")


def _seeded_release(data: str, *args: str) -> tuple[str, ...]:
    return _release(data, *args, "--seed", "1", "--reporting-length", "2")


NUMERIC_SCHEMA = """
[[columns]]
name = "gender"

[[columns]]
name = "age"
kind = "numeric"
{edges}
"""


CASES = [
    # parameters checked before any data are read
    Case("epsilon-0", _release(MISSING, "--epsilon", "0"),
         "epsilon must be a positive finite number, got 0"),
    Case("epsilon-negative", _release(MISSING, "--epsilon", "-1"),
         "epsilon must be a positive finite number, got -1"),
    Case("delta-1", _release(MISSING, "--epsilon", "4", "--delta", "1"),
         "delta must be strictly between 0 and 1"),
    Case("length-0", _release(MISSING, "--epsilon", "4", "-r", "0"),
         "reporting length must be a whole number of at least 1"),
    Case("length-11", _release(MISSING, "--epsilon", "4", "-r", "11"),
         "beyond what can be counted"),
    Case("percentile-0", _release(MISSING, "--epsilon", "4", "--percentile", "0"),
         "percentile_percentage must be in"),
    Case("seed-negative", _release(MISSING, "--epsilon", "4", "--seed", "-3"),
         "seed must be a whole number from 0 to"),
    Case("no-epsilon", _release(MISSING), "No privacy budget was given; pass --epsilon"),
    Case("no-data", _release("--epsilon", "4"), "No data file was given"),
    Case("no-config", _release(MISSING, "--epsilon", "4", "--config", "nope.toml"),
         "nope.toml does not exist"),
    Case("no-file", _release(MISSING, "--epsilon", "4"), "no-such-file.csv does not exist"),
    Case("length-beyond-schema",
         _release("DEMO", "--epsilon", "4", "-r", "3", "--schema", "DIR/two.toml"),
         "only 2 columns", files=(TWO_COLUMNS,)),
    Case("length-beyond-data", _release("TINY", "--epsilon", "4", "-r", "3"),
         "the data have only 2 columns"),
    Case("wrong-public-count", _release("DEMO", "--epsilon", "4", "--record-count-public", "10"),
         "declared public"),
    Case("fabrication-weight-0",
         _release("DEMO", "--epsilon", "4", "--fabrication-weight", "0"),
         "fabrication weight must be"),
    Case("fabrication-weight-with-k", _release("DEMO", "--k", "5", "--fabrication-weight", "2"),
         "applies to DP synthesis only"),
    Case("row-share-3", _release("DEMO", "--epsilon", "4", "--row-share", "3"),
         r"rows per protected record \(--row-share\) must be a number from 1 to 2.5"),
    Case("row-share-below-1", _release("DEMO", "--epsilon", "4", "--row-share", "0.5"),
         "must be a number from 1 to 2.5"),
    Case("row-share-with-k", _release("DEMO", "--k", "5", "--row-share", "2"),
         "--row-share applies to DP synthesis only"),
    Case("row-share-with-aim",
         _release("DEMO", "--epsilon", "4", "--synthesizer", "aim", "--row-share", "2"),
         "--row-share works with the aggregate-seeded synthesizer only"),
    Case("fabrication-weight-with-mst",
         _release("DEMO", "--epsilon", "4", "--synthesizer", "mst", "--fabrication-weight", "2"),
         "--fabrication-weight works with the aggregate-seeded synthesizer only"),
    # 1-3. parameters and schemas that would void the guarantee (from test_bad_parameters)
    Case(
        'epsilon-above-20',
        _seeded_release('CASES', '--epsilon', '50'),
        'ε = 50 is above 20.*--allow-large-epsilon',
    ),
    Case(
        'epsilon-above-20-in-config',
        _seeded_release('CASES', '--config', 'DIR/release.toml'),
        'ε = 21 is above 20.*--allow-large-epsilon',
        files=(('release.toml', 'epsilon = 21\n'),),
    ),
    Case(
        'allow-flag-not-a-boolean',
        _seeded_release('CASES', '--config', 'DIR/release.toml'),
        'In the config file .*: allow_large_delta must be true or false',
        files=(('release.toml', 'epsilon = 1\nallow_large_delta = "yes"\n'),),
    ),
    Case(
        'delta-above-one-over-n',
        _seeded_release('CASES', '--epsilon', '1', '--delta', '0.5'),
        'δ = 0\\.5 is above 1/n = .* for the .* \\(protected\\) records.*--allow-large-delta',
    ),
    Case(
        'delta-above-one-over-public-n',
        _seeded_release(
            'CASES', '--epsilon', '1', '--delta', '0.01', '--record-count-public', '300'
        ),
        'δ = 0\\.01 is above 1/n = 0\\.0033 for the 300 \\(protected\\) records',
    ),
    Case(
        'quantile-edges-from-the-data',
        _seeded_release('CASES', '--epsilon', '1', '--schema', 'DIR/schema.toml'),
        'Column \'age\' has bin edges taken from the data \\(quantiles\\).*edges = \\"public\\"',
        files=(('schema.toml', NUMERIC_SCHEMA.format(edges='quantiles = 4')),),
    ),
    Case(
        'inferred-edges',
        _seeded_release('CASES', '--epsilon', '1', '--schema', 'DIR/schema.toml'),
        'Column \'age\' has bin edges taken from the data \\(edges = \\"inferred\\"\\)',
        files=(
            (
                'schema.toml',
                NUMERIC_SCHEMA.format(
                    edges='bins = [30, 50]\nopen_ended = true\nedges = "inferred"'
                ),
            ),
        ),
    ),
    Case(
        'unknown-edge-source',
        _seeded_release('CASES', '--epsilon', '1', '--schema', 'DIR/schema.toml'),
        'has edges = \'guessed\'; write \\"public\\"',
        files=(('schema.toml', NUMERIC_SCHEMA.format(edges='bins = [30]\nedges = "guessed"')),),
    ),
    Case(
        'dp-edges-without-data-derived-edges',
        _seeded_release('CASES', '--epsilon', '1', '--dp-edges', '0.1'),
        'A share of epsilon for bin edges was given \\(--dp-edges\\), but no column',
    ),
    Case(
        'dp-edges-share-out-of-range',
        _seeded_release(
            'CASES', '--epsilon', '1', '--dp-edges', '1.5', '--schema', 'DIR/schema.toml'
        ),
        'edges_epsilon_proportion must be in \\[0, 1\\), got 1\\.5',
        files=(('schema.toml', NUMERIC_SCHEMA.format(edges='quantiles = 4')),),
    ),
    Case(
        'dp-edges-with-k-anonymity',
        _seeded_release('CASES', '--k', '5', '--dp-edges', '0.1'),
        '--dp-edges, --allow-large-epsilon and --allow-large-delta apply to differential',
    ),
    Case(
        'numeric-identifier',
        _seeded_release('PHONES', '--epsilon', '1', '--schema', 'DIR/schema.toml'),
        "Column 'phone' looks like an identifier \\(300 distinct values in 300 rows\\)",
        files=(
            (
                'schema.toml',
                '[[columns]]\nname = "gender"\n\n[[columns]]\nname = "phone"\n'
                'kind = "numeric"\nbins = [0, 1e13]\nedges = "public"\n',
            ),
        ),
    ),
    # 4. writing outputs
    Case(
        "overwrite-a-thesis",
        ("release", "DEMO", "--epsilon", "4", "-o", "THESIS", "--overwrite"),
        NOT_A_BUNDLE,
    ),
    Case(
        "overwrite-the-inputs-folder",
        ("release", "DEMO", "--epsilon", "4", "-o", "DATA_DIR", "--overwrite"),
        NOT_A_BUNDLE,
    ),
    Case(
        "overwrite-the-current-folder",
        ("release", "DEMO", "--epsilon", "4", "-o", ".", "--overwrite"),
        NOT_A_BUNDLE,
    ),
    Case(
        "overwrite-a-bundle-holding-other-files",
        ("release", "DEMO", "--epsilon", "4", "-o", "BUNDLE_WITH_INPUT", "--overwrite"),
        r"--overwrite would delete cases\.csv in .*; move them away or choose a new folder\.",
    ),
    Case(
        "two-releases-into-one-output",
        ("release", "DEMO", "--epsilon", "4", "-o", "OUT"),
        r"Another dpshowcase run is writing .*out right now; wait for it to finish",
        setup=_hold_the_output,
    ),
    Case(
        "seed-of-2-to-the-64",
        ("release", "DEMO", "--epsilon", "4", "--seed", TOO_LARGE_SEED, "-o", "OUT"),
        r"The seed must be a whole number from 0 to 2\^64 - 1 \(or none\), not 1844674407370955161",
    ),
    Case(
        "seed-of-2-to-the-64-k-anonymity",
        ("release", "DEMO", "--k", "5", "--seed", TOO_LARGE_SEED, "-o", "OUT"),
        r"The seed must be a whole number from 0 to 2\^64 - 1",
    ),
    Case(
        "cell-over-128-KiB-release",
        ("release", "BIG_CELL", "--epsilon", "4", "-r", "2", "-o", "OUT"),
        r"Column 'a' has a cell of 195 KiB; cells may be at most 128 KiB\. Is it the right file\?",
    ),
    Case(
        "cell-over-128-KiB-aggregate",
        ("aggregate", "BIG_CELL", "-r", "2", "-o", "OUT_CSV"),
        r"Column 'a' has a cell of 195 KiB; cells may be at most 128 KiB",
    ),
    Case(
        "disk-full-aggregate",
        ("aggregate", "DEMO", "-r", "1", "-o", "OUT_CSV"),
        r"The disk is full while writing .*counts\.csv; free some space",
        setup=_full_disk,
    ),
    Case(
        "disk-full-release",
        ("release", "DEMO", "--epsilon", "4", "--seed", "1", "-r", "2", "-o", "OUT"),
        r"The disk is full while writing .*out; free some space",
        setup=_full_disk,
    ),
    Case(
        "confidential-report-into-a-bundle",
        ("evaluate", "--release", "BUNDLE", "--sensitive", "DEMO", "-o", "BUNDLE"),
        r"With --sensitive the report is confidential, and .* is in the release bundle",
    ),
    Case(
        "confidential-report-inside-a-bundle",
        ("evaluate", "--release", "BUNDLE", "--sensitive", "DEMO", "-o", "BUNDLE/private"),
        r"With --sensitive the report is confidential, and .*private is in the release bundle",
    ),
    # 7. honest answers
    Case(
        "compare-a-value-in-the-wrong-case",
        ("compare", "BUNDLE", "--select", "gender=female"),
        r"The release holds no value 'female' in column 'gender'; did you mean 'Female'\?",
    ),
    Case(
        "compare-an-unknown-column",
        ("compare", "BUNDLE", "--select", "Gender=Female"),
        r"The release has no column 'Gender'; did you mean 'gender'\?",
    ),
]


def _tiny_bundle(folder: Path) -> Path:
    """A release bundle by hand: manifest, parameters, counts and synthetic records."""
    folder.mkdir()
    schema = Schema.all_categorical(["gender", "age"])
    (folder / "manifest.json").write_text(
        json.dumps({"tool": "dpshowcase", "columns": ["gender", "age"],
                    "schema": schema_to_dict(schema)}),
        encoding="utf-8",
    )  # fmt: skip
    (folder / "parameters.json").write_text(
        json.dumps({"mode": "k-anonymity", "k": 2, "reporting_length": 2}), encoding="utf-8"
    )
    (folder / "aggregates.csv").write_text(
        "combination,length,count\ngender:Female,1,4\ngender:Male,1,2\nage:0--17,1,6\n"
        "age:0--17;gender:Female,2,4\n",
        encoding="utf-8",
    )
    (folder / "synthetic.csv").write_text(
        "gender,age\n" + "Female,0--17\n" * 4 + "Male,0--17\n" * 2, encoding="utf-8"
    )
    return folder


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Read-only inputs shared by the rows."""
    folder = tmp_path_factory.mktemp("bad-inputs")
    demo = folder / "demo.csv"
    result = runner.invoke(app, ["demo-data", "--rows", "300", "--output", str(demo)])
    assert result.exit_code == 0, result.output
    big = folder / "big-cell.csv"
    big.write_text("a,b\n" + "x,y\n" * 40 + "Z" * 200_000 + ",y\n", encoding="utf-8")
    gender = ["female", "male", "female"] * 100
    cases = folder / "cases.csv"
    pl.DataFrame({"gender": gender, "age": [str(18 + (i * 7) % 60) for i in range(300)]}).write_csv(
        cases
    )
    phones = folder / "phones.csv"  # 13 digits, all distinct: an identifier
    pl.DataFrame(
        {"gender": gender, "phone": [str(4_412_345_678_901 + 7919 * i) for i in range(300)]}
    ).write_csv(phones)
    tiny = folder / "tiny.csv"
    tiny.write_text("a,b\n" + "x,y\n" * 20 + "z,y\n" * 20, encoding="utf-8")
    return {
        "DEMO": demo,
        "BIG_CELL": big,
        "TINY": tiny,
        "CASES": cases,
        "PHONES": phones,
        "BUNDLE": _tiny_bundle(folder / "b"),
    }


@pytest.fixture
def workspace(tmp_path: Path, inputs: dict[str, Path]) -> dict[str, Path]:
    """Per-row paths: outputs, a thesis folder, the input's own folder, a bundle."""
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("years of work", encoding="utf-8")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(inputs["DEMO"], data_dir / "cases.csv")
    with_input = _tiny_bundle(tmp_path / "bundle-with-input")
    shutil.copy(inputs["DEMO"], with_input / "cases.csv")
    return {
        **inputs,
        "OUT": tmp_path / "out",
        "OUT_CSV": tmp_path / "counts.csv",
        "THESIS": thesis,
        "DATA_DIR": data_dir,
        "BUNDLE_WITH_INPUT": with_input,
        "DIR": tmp_path,
    }


def _photograph(*folders: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``folders`` with its size and modification time."""
    shot = {}
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            for name in dirs + files:
                path = Path(root) / name
                stat = path.lstat()
                shot[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return shot


def _argument(arg: str, paths: dict[str, Path]) -> str:
    head, _, tail = arg.partition("/")
    if head in paths:
        return str(paths[head] / tail) if tail else str(paths[head])
    return arg


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_input_is_one_sentence_exit_2_and_nothing_written(
    case: Case,
    workspace: dict[str, Path],
    inputs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(workspace["DATA_DIR"])  # so "." is the input's own folder
    for name, text in case.files:
        (workspace["DIR"] / name).write_text(text, encoding="utf-8")
    cleanup = case.setup(workspace, monkeypatch) if case.setup is not None else None
    try:
        before = _photograph(workspace["OUT"].parent, inputs["DEMO"].parent)
        result = runner.invoke(app, [_argument(a, workspace) for a in case.args])
        after = _photograph(workspace["OUT"].parent, inputs["DEMO"].parent)
    finally:
        if cleanup is not None:
            cleanup()
    assert result.exit_code == case.code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if "Error:" in line]
    assert len(errors) == 1, result.output
    sentence = " ".join(result.output[result.output.index("Error: ") :].split())
    assert re.search(case.message, sentence), sentence
    assert after == before, "the command wrote, changed or deleted files"
