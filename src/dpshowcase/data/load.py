"""Reading a sensitive table from CSV, TSV or Parquet into string columns.

Every cell is read as text: what a value means is the schema's business, not the
reader's guess. Problems a person can fix (empty file, wrong encoding, ragged rows,
duplicate column names) are reported as one sentence naming the file.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from dpshowcase.errors import InputError

_TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None}

MAX_CELL_BYTES = 128 * 1024
"""The longest cell accepted (128 KiB): an attribute value is a word or a code, never a
document; a longer cell is free text or a file pasted into a cell, and would be copied
into every count, label and page that names it."""


def read_table(path: Path | str) -> pl.DataFrame:
    """Read a data file as a DataFrame whose columns are all strings (nulls kept as null)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"The data file {path} does not exist; check the path.")
    if path.is_dir():
        raise InputError(f"{path} is a folder; give the path of a CSV, TSV or Parquet file.")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame = _read_parquet(path)
    elif suffix in _TEXT_SUFFIXES or suffix == "":
        frame = _read_text(path, _TEXT_SUFFIXES.get(suffix))
    else:
        raise InputError(
            f"{path} has the unknown file type {suffix!r}; use .csv, .tsv or .parquet."
        )
    if frame.width == 0:
        raise InputError(f"The data file {path} has no columns.")
    if frame.height == 0:
        raise InputError(
            f"The data file {path} has a header but no rows; there is nothing to count."
        )
    _check_cell_sizes(path, frame)
    return frame


def _check_cell_sizes(path: Path, frame: pl.DataFrame) -> None:
    """InputError naming the first column holding a cell over :data:`MAX_CELL_BYTES`.

    Worded as the web app's own (configurable) cap says it, so both read alike.
    """
    longest = frame.select(pl.all().str.len_bytes().max()).row(0)
    for name, size in zip(frame.columns, longest, strict=True):
        if size is not None and size > MAX_CELL_BYTES:
            raise InputError(
                f"Column {name!r} has a cell of {size / 1024:,.0f} KiB; cells may be at most "
                f"{MAX_CELL_BYTES // 1024} KiB. Is it the right file?"
            )


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars/pyarrow raise many types for a corrupt file
        raise InputError(f"{path} could not be read as Parquet ({_first_line(exc)}).") from None
    return frame.select(pl.all().cast(pl.String))


def _read_text(path: Path, separator: str | None) -> pl.DataFrame:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(f"The data file {path} is empty.")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} is not UTF-8 text (bad byte at position {exc.start}); "
            "save it again as UTF-8 (in Excel: 'CSV UTF-8')."
        ) from None
    if separator is None:
        separator = _sniff_separator(text)
    _check_header(path, text, separator)
    try:
        frame = pl.read_csv(
            io.BytesIO(raw),
            separator=separator,
            infer_schema=False,
        )
    except pl.exceptions.ComputeError as exc:
        message = str(exc)
        if "more fields" in message:
            raise InputError(
                f"{path} has rows with more fields than its header; fix the ragged rows "
                "(a cell with the separator inside must be quoted)."
            ) from None
        raise InputError(f"{path} could not be read as a table ({_first_line(exc)}).") from None
    except pl.exceptions.NoDataError:
        raise InputError(f"The data file {path} is empty.") from None
    _check_short_rows(path, text, separator, frame.width)
    return _drop_blank_lines(frame, text, separator)


def _drop_blank_lines(frame: pl.DataFrame, text: str, separator: str) -> pl.DataFrame:
    """Polars reads a blank line as a row of nulls; with several columns it is no record.

    (A record with every cell empty is written ``,,``.) With one column a blank line is
    an empty cell, so it stays.
    """
    if frame.width < 2:
        return frame
    if '"' in text:
        blank = [not row for row in csv.reader(io.StringIO(text), delimiter=separator)]
    else:
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        blank = [not line.rstrip("\r") for line in lines]
    if all(blank):
        return frame
    data_rows = blank[blank.index(False) + 1 :]
    if len(data_rows) != frame.height or not any(data_rows):
        return frame
    return frame.filter(~pl.Series(data_rows, dtype=pl.Boolean))


def _sniff_separator(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (",", "\t", ";", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _check_header(path: Path, text: str, separator: str) -> None:
    header_line = text.split("\n", 1)[0].rstrip("\r")
    names = next(csv.reader([header_line], delimiter=separator))
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(
                f"{path} has the column name {name!r} twice; give each column its own name."
            )
        seen.add(name)
    if any(not name.strip() for name in names):
        raise InputError(f"{path} has a column without a name in its header; name every column.")


def _check_short_rows(path: Path, text: str, separator: str, width: int) -> None:
    """Polars fills missing trailing fields silently; a ragged file is an error here."""
    lines = pl.Series(text.splitlines())
    lines = lines.filter(lines.str.len_chars() > 0)
    if '"' not in text:
        fields = lines.str.count_matches(separator, literal=True) + 1
        bad = (fields != width).arg_true()
        if len(bad):
            _raise_ragged(path, int(bad[0]) + 1, int(fields[int(bad[0])]), width)
        return
    for line_no, row in enumerate(csv.reader(io.StringIO(text), delimiter=separator), start=1):
        if row and len(row) != width:
            _raise_ragged(path, line_no, len(row), width)


def _raise_ragged(path: Path, line: int, found: int, width: int) -> None:
    raise InputError(
        f"{path} is ragged: line {line} has {found} fields but the header has {width}; "
        "fix that row (a cell with the separator inside must be quoted)."
    )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
