"""The command line end to end: demo data, aggregate, schema infer/show, and bad inputs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.aggregate.resolution import apply_resolution
from dpshowcase.cli.main import app
from dpshowcase.data.prepare import prepare
from dpshowcase.schema.toml_io import load_schema

runner = CliRunner()


def _run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "x.csv"
    result = _run("demo-data", "--rows", "500", "--output", path)
    assert result.exit_code == 0, result.output
    return path


def _rows(frame: pl.DataFrame) -> Counter[tuple[str, int, int]]:
    return Counter(frame.select("combination", "length", "count").rows())


def test_demo_data(demo_csv: Path) -> None:
    frame = pl.read_csv(demo_csv, infer_schema=False)
    assert frame.height == 500
    assert "gender" in frame.columns
    assert [p.name for p in demo_csv.parent.iterdir()] == ["x.csv"]


def test_aggregate_writes_the_library_counts(demo_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "counts.csv"
    result = _run("aggregate", demo_csv, "--reporting-length", "2", "--output", out)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines()[0] == "combination,length,count"
    written = pl.read_csv(out, schema_overrides={"combination": pl.String})
    assert set(written["length"].to_list()) == {1, 2}
    expected = count_combinations(prepare(demo_csv), 2).to_frame()
    assert _rows(written) == _rows(expected)
    assert f"Wrote {expected.height:,} combinations" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["counts.csv"]


def test_aggregate_with_resolution(demo_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "counts.csv"
    result = _run("aggregate", demo_csv, "-r", "2", "--resolution", "5", "--output", out)
    assert result.exit_code == 0, result.output
    written = pl.read_csv(out, schema_overrides={"combination": pl.String})
    assert written.height > 0
    assert all(c % 5 == 0 and c >= 5 for c in written["count"])
    expected = apply_resolution(count_combinations(prepare(demo_csv), 2), 5).to_frame()
    assert _rows(written) == _rows(expected)
    assert "resolution k=5" in result.stderr


def test_aggregate_to_parquet(demo_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "counts.parquet"
    result = _run("aggregate", demo_csv, "-r", "1", "--output", out)
    assert result.exit_code == 0, result.output
    assert tuple(pl.read_parquet(out).columns) == ("combination", "length", "count")


def test_schema_infer_show_and_aggregate(demo_csv: Path, tmp_path: Path) -> None:
    schema_path = tmp_path / "schema.toml"
    result = _run("schema", "infer", demo_csv, "--output", schema_path)
    assert result.exit_code == 0, result.output
    schema = load_schema(schema_path)
    assert "gender" in schema.column_names

    shown = _run("schema", "show", schema_path)
    assert shown.exit_code == 0, shown.output
    assert "gender" in shown.output

    out = tmp_path / "counts.csv"
    counted = _run("aggregate", demo_csv, "-r", "2", "--schema", schema_path, "--output", out)
    assert counted.exit_code == 0, counted.output
    written = pl.read_csv(out, schema_overrides={"combination": pl.String})
    expected = count_combinations(prepare(demo_csv, schema), 2).to_frame()
    assert _rows(written) == _rows(expected)


def test_schema_infer_prints_toml_without_output(demo_csv: Path) -> None:
    result = _run("schema", "infer", demo_csv)
    assert result.exit_code == 0, result.output
    assert "[[columns]]" in result.stdout


def test_version() -> None:
    result = _run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("dpshowcase ")


# --- bad inputs ---------------------------------------------------------------------


def _assert_one_error_line(result: Result, *phrases: str) -> str:
    assert result.exit_code not in (0, None), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "\x1b" not in result.stderr  # no terminal colour codes when not a terminal
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    line = errors[0]
    assert line.endswith("."), line
    for phrase in phrases:
        assert phrase in line, line
    return line


def _write(folder: Path, name: str, content: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


IDS = "caseId,gender\n" + "".join(f"case-{i:03d},{'FM'[i % 2]}\n" for i in range(100))

BAD_FILES = [
    pytest.param("empty.csv", "", (), ("empty.csv", "is empty"), id="empty"),
    pytest.param(
        "latin.csv",
        "país,género\nEspaña,F\n".encode("latin-1"),
        (),
        ("latin.csv", "not UTF-8"),
        id="non-utf8",
    ),
    pytest.param(
        "ragged.csv", "a,b,c\n1,2,3\n4,5\n", (), ("ragged.csv", "line 3"), id="ragged-short"
    ),
    pytest.param(
        "ragged.csv", "a,b\n1,2\n3,4,5\n", (), ("ragged.csv", "more fields"), id="ragged-long"
    ),
    pytest.param("ids.csv", IDS, (), ("caseId", "identifier"), id="identifier"),
    pytest.param("d.csv", "a,b\nx,y\n", ("-r", "0"), ("reporting length",), id="length-0"),
    pytest.param("d.csv", "a,b\nx,y\n", ("-r", "11"), ("at most 10",), id="length-11"),
    pytest.param("d.csv", "a,b\nx,y\n", ("-k", "0"), ("resolution k", "not 0"), id="k-0"),
    pytest.param(
        "d.csv", "a,b\nx,y\n", ("-r", "3"), ("more than the 2 columns",), id="length-gt-cols"
    ),
    pytest.param("d[2024].csv", "", (), ("d[2024].csv", "is empty"), id="brackets-in-name"),
]


@pytest.mark.parametrize(("name", "content", "extra", "phrases"), BAD_FILES)
def test_aggregate_refuses(
    tmp_path: Path, name: str, content: str | bytes, extra: tuple[str, ...], phrases: tuple[str]
) -> None:
    data = _write(tmp_path / "in", name, content)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    args = ["aggregate", data, "-r", "1", *extra, "--output", out_dir / "counts.csv"]
    _assert_one_error_line(_run(*args), *phrases)
    assert list(out_dir.iterdir()) == []


def test_aggregate_refuses_a_schema_column_missing_from_the_data(tmp_path: Path) -> None:
    data = _write(tmp_path / "in", "d.csv", "gender,age\nF,30\n")
    schema = _write(tmp_path / "in", "s.toml", '[[columns]]\nname = "citizenship"\n')
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = _run("aggregate", data, "--schema", schema, "--output", out_dir / "c.csv", "-r", "1")
    _assert_one_error_line(result, "'citizenship'", "gender, age")
    assert list(out_dir.iterdir()) == []


def test_aggregate_refuses_a_missing_output_folder(tmp_path: Path) -> None:
    data = _write(tmp_path / "in", "d.csv", "a,b\nx,y\n")
    result = _run("aggregate", data, "-r", "1", "--output", tmp_path / "nope" / "c.csv")
    _assert_one_error_line(result, "does not exist")
    assert not (tmp_path / "nope").exists()


def test_aggregate_refuses_an_unknown_output_type(tmp_path: Path) -> None:
    data = _write(tmp_path / "in", "d.csv", "a,b\nx,y\n")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    _assert_one_error_line(_run("aggregate", data, "-r", "1", "--output", out_dir / "c.json"))
    assert list(out_dir.iterdir()) == []


def test_aggregate_allow_identifiers(tmp_path: Path) -> None:
    data = _write(tmp_path / "in", "ids.csv", IDS)
    out = tmp_path / "c.csv"
    result = _run("aggregate", data, "-r", "1", "--allow-identifiers", "--output", out)
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out).height == 102


def test_schema_show_refuses_a_broken_schema(tmp_path: Path) -> None:
    schema = _write(tmp_path, "s.toml", "[[columns]\n")
    _assert_one_error_line(_run("schema", "show", schema), "not valid TOML")


def test_schema_infer_refuses_an_empty_file(tmp_path: Path) -> None:
    data = _write(tmp_path / "in", "empty.csv", "")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = _run("schema", "infer", data, "--output", out_dir / "s.toml")
    _assert_one_error_line(result, "is empty")
    assert list(out_dir.iterdir()) == []


def test_schema_infer_refuses_bad_bins(demo_csv: Path, tmp_path: Path) -> None:
    result = _run("schema", "infer", demo_csv, "--bins", "1", "--output", tmp_path / "s.toml")
    _assert_one_error_line(result, "--bins must be between 2 and 100")
    assert list(tmp_path.iterdir()) == []


def test_schema_show_names_declared_categories(tmp_path: Path) -> None:
    schema_path = tmp_path / "schema.toml"
    schema_path.write_text(
        '[[columns]]\nname = "SEX"\ncategories = ["1", "2"]\n\n[[columns]]\nname = "g"\n',
        encoding="utf-8",
    )
    shown = _run("schema", "show", schema_path)
    assert shown.exit_code == 0, shown.output
    assert "2 declared categories; never empty" in shown.output
    assert shown.output.count("never empty") == 1  # "g" learns its values, may be empty
