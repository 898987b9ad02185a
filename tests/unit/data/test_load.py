"""Reading data files: every format as strings, and one clear InputError per problem."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from dpshowcase.data.load import read_table
from dpshowcase.errors import InputError


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def _all_strings(frame: pl.DataFrame) -> bool:
    return all(dtype == pl.String for dtype in frame.dtypes)


def test_csv_is_read_as_strings(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", "age,flag,name\n07,1,Ana\n18,,Bo\n")
    frame = read_table(path)
    assert frame.columns == ["age", "flag", "name"]
    assert _all_strings(frame)
    assert frame.rows() == [("07", "1", "Ana"), ("18", None, "Bo")]  # "07" keeps its zero


def test_path_may_be_a_string(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", "a\nx\n")
    assert read_table(str(path)).rows() == [("x",)]


@pytest.mark.parametrize("suffix", [".tsv", ".tab"])
def test_tab_separated(tmp_path: Path, suffix: str) -> None:
    path = _write(tmp_path, f"d{suffix}", "a\tb,c\n1\t2,3\n")
    frame = read_table(path)
    assert frame.columns == ["a", "b,c"]
    assert frame.rows() == [("1", "2,3")]


@pytest.mark.parametrize(
    ("name", "separator"), [("d.txt", ";"), ("d.txt", "|"), ("d", "\t"), ("d.TXT", ",")]
)
def test_separator_is_sniffed_for_plain_text(tmp_path: Path, name: str, separator: str) -> None:
    path = _write(tmp_path, name, f"a{separator}b\n1{separator}2\n")
    assert read_table(path).rows() == [("1", "2")]


def test_quoted_cells_hold_separators_and_newlines(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", 'a,b\n"x,y",1\n"two\nlines",2\n')
    assert read_table(path).rows() == [("x,y", "1"), ("two\nlines", "2")]


def test_crlf_line_ends(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", "a,b\r\n1,2\r\n3,\r\n")
    assert read_table(path).rows() == [("1", "2"), ("3", None)]


def test_parquet_is_read_as_strings(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pl.DataFrame(
        {"age": [30, None, 41], "flag": [1, 0, None], "g": ["F", "M", None]}
    ).write_parquet(path)
    frame = read_table(path)
    assert _all_strings(frame)
    assert frame.rows() == [("30", "1", "F"), (None, "0", "M"), ("41", None, None)]


def test_pq_suffix_is_parquet(tmp_path: Path) -> None:
    path = tmp_path / "d.pq"
    pl.DataFrame({"a": ["x"]}).write_parquet(path)
    assert read_table(path).rows() == [("x",)]


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.parquet", b"PAR1 this is not parquet")
    with pytest.raises(InputError, match=r"d\.parquet could not be read as Parquet"):
        read_table(path)


def test_byte_order_mark_is_stripped(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", "\ufeffgender,age\nF,30\n".encode())
    frame = read_table(path)
    assert frame.columns == ["gender", "age"]
    assert frame.rows() == [("F", "30")]


def test_blank_lines_are_not_records(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", "a,b\n1,2\n\n3,4\n\n\n")
    assert read_table(path).rows() == [("1", "2"), ("3", "4")]


def test_blank_lines_in_a_quoted_file_are_not_records(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", 'a,b\r\n"x\r\n\r\ny",2\r\n\r\n3,4\r\n\r\n')
    assert read_table(path).rows() == [("x\r\n\r\ny", "2"), ("3", "4")]


def test_a_row_of_empty_cells_is_a_record(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", "a,b\n,\n1,2\n")
    assert read_table(path).height == 2


def test_a_blank_line_in_a_one_column_file_is_an_empty_cell(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", "a\n1\n\n2\n")
    assert read_table(path).rows() == [("1",), (None,), ("2",)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("", "is empty", id="empty"),
        pytest.param(" \n\n \n", "is empty", id="whitespace-only"),
        pytest.param("a,b\n", "has a header but no rows", id="header-only"),
        pytest.param("a,b\n\n\n", "has a header but no rows", id="header-and-blank-lines"),
        pytest.param("a,b,a\n1,2,3\n", "has the column name 'a' twice", id="duplicate-header"),
        pytest.param("a,,c\n1,2,3\n", "column without a name", id="unnamed-column"),
        pytest.param(
            "a,b\n1,2\n3,4,5\n", "has rows with more fields than its header", id="too-many"
        ),
        pytest.param(
            'a,b\n"1",2\n"3",4,5\n',
            "has rows with more fields than its header",
            id="too-many-quoted",
        ),
        pytest.param(
            "a,b,c\n1,2,3\n4,5\n",
            "is ragged: line 3 has 2 fields but the header has 3",
            id="too-few",
        ),
        pytest.param(
            'a,b,c\n"1",2,3\n"4",5\n',
            "is ragged: line 3 has 2 fields but the header has 3",
            id="too-few-quoted",
        ),
    ],
)
def test_unusable_text_files(tmp_path: Path, content: str, message: str) -> None:
    path = _write(tmp_path, "bad.csv", content)
    with pytest.raises(InputError, match=message) as info:
        read_table(path)
    assert "bad.csv" in str(info.value)
    assert "\n" not in str(info.value)


def test_non_utf8_bytes(tmp_path: Path) -> None:
    path = _write(tmp_path, "latin.csv", "país,género\nEspaña,F\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin\.csv is not UTF-8 text .* save it again as UTF-8"):
        read_table(path)


def test_unknown_suffix(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.xlsx", "a,b\n1,2\n")
    with pytest.raises(InputError, match=r"unknown file type '\.xlsx'; use \.csv, \.tsv"):
        read_table(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.csv does not exist"):
        read_table(tmp_path / "nope.csv")


def test_folder(tmp_path: Path) -> None:
    folder = tmp_path / "data.csv"
    folder.mkdir()
    with pytest.raises(InputError, match="is a folder"):
        read_table(folder)


def test_input_errors_are_value_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
