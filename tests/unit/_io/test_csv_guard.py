"""The one CSV guard: formula-like text neutralised, numbers left alone, reversible."""

from __future__ import annotations

import polars as pl
import pytest

from dpshowcase._io.csv_guard import guard_cell, guard_frame, unguard_cell, unguard_frame, write_csv


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\nx", "'\nx"),
        ("\x00x", "'\x00x"),
        ("  =1+1", "'  =1+1"),
        ("\t@SUM(A1)", "'\t@SUM(A1)"),
        ("'=1+1", "''=1+1"),  # already quoted: one more, so reading gives it back
        ("-3", "-3"),
        ("+1.5", "+1.5"),
        ("-1e5", "-1e5"),
        ("-.5", "-.5"),
        ("0--17", "0--17"),
        ("Female", "Female"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
)
def test_guard_cell(cell, shown):
    assert guard_cell(cell) == shown
    assert unguard_cell(shown) == cell


def test_guard_frame_guards_text_cells_and_names_but_not_numbers():
    frame = pl.DataFrame(
        {
            "=1+1": ["=HYPERLINK(\"x\")", "@SUM(A1)", "\r=cmd", "-5", "ok"],
            "n": [-5, 3, -1, 0, 2],
            "x": [-0.5, 1.0, 2.0, 3.0, 4.0],
        }
    )
    guarded = guard_frame(frame)
    assert guarded.columns == ["'=1+1", "n", "x"]
    assert guarded.get_column("'=1+1").to_list() == [
        "'=HYPERLINK(\"x\")",
        "'@SUM(A1)",
        "'\r=cmd",
        "-5",
        "ok",
    ]
    assert guarded.get_column("n").to_list() == [-5, 3, -1, 0, 2]
    assert guarded.schema["n"] == pl.Int64
    assert unguard_frame(guarded.with_columns(pl.col("n").cast(pl.String))).columns == frame.columns


def test_write_csv_round_trips_through_unguard(tmp_path):
    frame = pl.DataFrame({"-a": ["''+x", "+x", None, "-7", "y\n=z"], "count": [1, -2, 3, 4, 5]})
    path = tmp_path / "t.csv"
    write_csv(frame, path)
    raw = path.read_text(encoding="utf-8")
    assert raw.startswith("'-a,count\n")
    assert "\n+x" not in raw
    assert ",-2\n" in raw  # the negative number stays a number
    back = unguard_frame(pl.read_csv(path, infer_schema_length=None))
    assert back.equals(frame, null_equal=True)
