"""Receiving an upload and reading it defensively.

The body is streamed to ``uploads/<random id><suffix>`` while its bytes are counted (the
guard has already refused a declared size above the limit). The name the browser sent
is kept only as a label: the file type is decided from its suffix and checked against
the content's first bytes, and the file on disk gets a generated name.

Before the table is parsed its shape is checked cheaply — Parquet from its footer,
text by counting lines and header fields — so a file with millions of columns or rows
beyond the cap is refused without being loaded.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
from starlette.requests import Request

from dpshowcase.data.load import read_table
from dpshowcase.errors import InputError
from dpshowcase.web.settings import WebSettings
from dpshowcase.web.store import new_id

__all__ = ["UploadTooLargeError", "load_upload", "receive_upload"]

_PARQUET_MAGIC = b"PAR1"
_SUFFIXES = {
    ".csv": ".csv",
    ".txt": ".txt",  # separator sniffed from the header
    ".tsv": ".tsv",
    ".tab": ".tsv",
    ".parquet": ".parquet",
    ".pq": ".parquet",
}


class UploadTooLargeError(Exception):
    """The streamed body went past the limit."""


def _suffix(name: str, head: bytes) -> str:
    declared = Path(name).suffix.lower()
    if head.startswith(_PARQUET_MAGIC):
        return ".parquet"
    if declared in _SUFFIXES:
        if _SUFFIXES[declared] == ".parquet":
            raise InputError(f"{name} is named as Parquet but is not a Parquet file.")
        return _SUFFIXES[declared]
    if declared:
        raise InputError(
            f"{name} has the unknown file type {declared!r}; upload a .csv, .tsv or .parquet file."
        )
    return ".txt"


async def receive_upload(request: Request, name: str, settings: WebSettings) -> Path:
    """Stream the request body into the uploads folder; return the stored file's path."""
    limit = settings.max_upload_bytes
    part = settings.uploads / f"{new_id()}.part"
    size = 0
    head = b""
    try:
        with part.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise UploadTooLargeError
                if len(head) < 8:
                    head += chunk[:8]
                out.write(chunk)
        if size == 0:
            raise InputError("The upload is empty; choose a CSV, TSV or Parquet file with data.")
        final = part.with_suffix(_suffix(name, head))
        part.rename(final)
        return final
    finally:
        part.unlink(missing_ok=True)


def load_upload(path: Path, name: str, settings: WebSettings) -> pl.DataFrame:
    """Read a stored upload as string columns, within the caps; errors name ``name``."""
    try:
        if path.suffix == ".parquet":
            _check_parquet_shape(path, settings)
        else:
            _check_text_shape(path, settings)
        frame = read_table(path)
    except InputError as exc:
        raise InputError(str(exc).replace(str(path), name)) from None
    _check_caps(frame.height, frame.width, settings)
    return frame


def _check_caps(rows: int, columns: int, settings: WebSettings) -> None:
    if columns > settings.max_columns:
        raise InputError(
            f"The table has {columns:,} columns; the app accepts at most "
            f"{settings.max_columns:,}. Keep only the columns you mean to release."
        )
    if rows > settings.max_rows:
        raise InputError(
            f"The table has {rows:,} rows; the app accepts at most {settings.max_rows:,}."
        )


def _check_parquet_shape(path: Path, settings: WebSettings) -> None:
    try:
        metadata = pq.ParquetFile(path).metadata
    except Exception as exc:  # pyarrow raises many types for a corrupt file
        raise InputError(f"{path} could not be read as Parquet ({type(exc).__name__}).") from None
    _check_caps(metadata.num_rows, metadata.num_columns, settings)


def _check_text_shape(path: Path, settings: WebSettings) -> None:
    with path.open("rb") as handle:
        first = handle.readline(1024 * 1024)
        lines = 1
        for block in iter(lambda: handle.read(1 << 20), b""):
            lines += block.count(b"\n")
    if len(first) >= 1024 * 1024 and not first.endswith(b"\n"):
        raise InputError(f"{path} has a header line longer than 1 MiB; is it a table?")
    separator = {".tsv": "\t", ".csv": ","}.get(path.suffix) or _separator(first)
    try:
        text = first.decode("utf-8-sig")
        header = next(csv.reader(io.StringIO(text), delimiter=separator), [])
    except (UnicodeDecodeError, csv.Error):
        return  # read_table explains encoding problems
    # more lines than rows can only over-count (quoted line breaks), never let more through
    _check_caps(max(lines - 1, 0) if lines > settings.max_rows + 1 else 0, len(header), settings)


def _separator(first: bytes) -> str:
    counts = {sep: first.count(sep.encode()) for sep in (",", "\t", ";", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","
