"""CSV files that are safe to open in a spreadsheet: the one guard of every CSV written.

Spreadsheet programs run a cell as a formula when its text starts with ``=``, ``+``,
``-`` or ``@`` (CSV injection, e.g. ``=HYPERLINK(…)``), and some of them first drop a
leading tab, carriage return, line feed, NUL or space. Every CSV file dpshowcase writes
goes through :func:`write_csv`, which puts a ``'`` before every such text cell — header
names included. Spreadsheets show a leading ``'`` as "this is text", the usual defence.

Left alone: genuine numbers written as text (``-5``, ``+1.5e3``) and every column whose
type is a number, a boolean or a date, so a numeric column's ``-5`` stays ``-5``.

The guard is reversible, so dpshowcase reads its own files back unchanged
(:func:`unguard_frame`): a text that already starts with ``'`` before something a
spreadsheet would run gets one more ``'``, and reading removes exactly one.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import polars as pl

__all__ = ["guard_cell", "guard_frame", "unguard_cell", "unguard_frame", "write_csv"]

_RUNNABLE = r"^(?:[\s\x00]*[=+\-@]|[\t\r\n\x00])"
"""Text a spreadsheet runs as a formula: = + - @ after optional blanks, or a control start."""
_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
_QUOTES = r"^'+"
_runnable = re.compile(_RUNNABLE)
_number = re.compile(_NUMBER)


def _needs_guard(core: str) -> bool:
    """``core`` (a text without its leading quotes) would be run by a spreadsheet."""
    return bool(_runnable.match(core)) and not _number.match(core)


def guard_cell(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would run it (module docstring)."""
    return "'" + text if _needs_guard(text.lstrip("'")) else text


def unguard_cell(text: str) -> str:
    """The text :func:`guard_cell` was given, from what it returned."""
    if text.startswith("'") and _needs_guard(text.lstrip("'")):
        return text[1:]
    return text


def _text_columns(frame: pl.DataFrame) -> list[str]:
    kept = (pl.Boolean, pl.Null)
    return [
        name
        for name, dtype in frame.schema.items()
        if not (dtype.is_numeric() or dtype.is_temporal() or dtype in kept)
    ]


def _needs_guard_expr(column: pl.Expr) -> pl.Expr:
    core = column.str.replace(_QUOTES, "")
    return core.str.contains(_RUNNABLE) & ~core.str.contains(_NUMBER)


def guard_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` as it is written: text cells and every column name guarded."""
    exprs = []
    for name in frame.columns:
        if name in _text_columns(frame):
            text = pl.col(name).cast(pl.String)
            exprs.append(
                pl.when(_needs_guard_expr(text)).then(pl.lit("'") + text).otherwise(text)
            )
        else:
            exprs.append(pl.col(name))
    guarded = frame.select(e.alias(n) for e, n in zip(exprs, frame.columns, strict=True))
    guarded.columns = [guard_cell(name) for name in frame.columns]
    return guarded


def unguard_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame read from a guarded CSV, as it was before :func:`guard_frame`."""
    exprs = []
    for name in frame.columns:
        column = pl.col(name)
        if frame.schema[name] == pl.String:
            column = (
                pl.when(column.str.starts_with("'") & _needs_guard_expr(column))
                .then(column.str.slice(1))
                .otherwise(column)
            )
        exprs.append(column.alias(name))
    unguarded = frame.select(exprs)
    unguarded.columns = [unguard_cell(name) for name in frame.columns]
    return unguarded


def write_csv(frame: pl.DataFrame, target: Path | io.BytesIO) -> None:
    """Write ``frame`` as CSV with formula-like text cells and names guarded."""
    guard_frame(frame).write_csv(target)
