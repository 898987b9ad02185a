"""Receiving an upload and reading it defensively.

The body is streamed to ``uploads/<random id><suffix>`` while its bytes are counted (the
guard has already refused a declared size above the limit). The name the browser sent
is kept only as a label: the file type is decided from its suffix and checked against
the content's first bytes, and the file on disk gets a generated name.

Before the table is kept in memory its size is checked against the caps — rows,
columns, the longest cell and the decoded size (the bytes of its cells plus the
16 bytes each cell costs as a polars string) — so that neither a file with millions of
columns nor a small file that decodes to gigabytes is ever loaded:

- text (CSV/TSV) by counting lines and header fields (its decoded size is about its
  file size, which the upload limit caps);
- Parquet from its footer (rows, columns, uncompressed size), then by streaming its
  columns with string columns kept dictionary-encoded: a 200 KB file whose one value
  of 4 MB repeats a thousand times is measured at 4 MB of memory and refused, never
  expanded to 4 GB.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from starlette.requests import Request

from dpshowcase.data.load import read_table
from dpshowcase.errors import InputError
from dpshowcase.web.datafolder import open_private
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
        with open_private(part) as out:
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
    _check_cells(frame, settings)
    return frame


CELL_OVERHEAD = 16
"""Bytes a polars string cell costs besides its text (its view)."""


def _check_size(cells: int, text_bytes: int, settings: WebSettings) -> None:
    decoded = cells * CELL_OVERHEAD + text_bytes
    if decoded > settings.max_table_bytes:
        raise InputError(
            f"The table would take about {_mib(decoded)} of memory once read; the app "
            f"accepts at most {_mib(settings.max_table_bytes)}. Upload fewer rows or columns."
        )


def _cell_too_long(column: str, size: int, settings: WebSettings) -> InputError:
    return InputError(
        f"Column {column!r} has a cell of {size / 1024:,.0f} KiB; cells may be at most "
        f"{settings.max_cell_bytes / 1024:,.0f} KiB. Is it the right file?"
    )


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:,.0f} MiB"


def _check_cells(frame: pl.DataFrame, settings: WebSettings) -> None:
    """No cell longer than the cap (vectorised: one pass per column)."""
    if frame.height == 0 or frame.width == 0:
        return
    longest = frame.select(pl.all().cast(pl.String).str.len_bytes().max()).row(0)
    for column, size in zip(frame.columns, longest, strict=True):
        if size is not None and size > settings.max_cell_bytes:
            raise _cell_too_long(column, int(size), settings)


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
    stored = sum(
        metadata.row_group(g).column(c).total_uncompressed_size
        for g in range(metadata.num_row_groups)
        for c in range(metadata.num_columns)
    )
    # the pages without their compression: a lower bound of the decoded size
    _check_size(metadata.num_rows * metadata.num_columns, stored, settings)
    try:
        _measure_parquet(path, metadata.num_columns, settings)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path} could not be read as Parquet ({type(exc).__name__}).") from None


def _measure_parquet(path: Path, n_columns: int, settings: WebSettings) -> None:
    """Stream the file's columns and add up their cells' lengths, refusing at the caps.

    String columns are read dictionary-encoded: a batch then holds each distinct value
    once (bounded by the uncompressed size checked before) and an index per cell, so
    the measurement never holds the expanded table.
    """
    def is_text(kind: pa.DataType) -> bool:
        return bool(
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_binary(kind)
            or pa.types.is_large_binary(kind)
            or pa.types.is_string_view(kind)
            or pa.types.is_binary_view(kind)
        )

    schema = pq.ParquetFile(path).schema_arrow
    text = [f.name for f in schema if is_text(f.type)]
    reader = pq.ParquetFile(path, read_dictionary=text)
    rows_per_batch = max(1024, 4_000_000 // max(n_columns, 1))
    cells = 0
    text_bytes = 0
    for batch in reader.iter_batches(batch_size=rows_per_batch):
        cells += batch.num_rows * batch.num_columns
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            if pa.types.is_dictionary(column.type) and is_text(column.type.value_type):
                lengths = pc.binary_length(column.dictionary)
                per_cell = pc.take(lengths, column.indices)
            elif is_text(column.type):
                per_cell = pc.binary_length(column)
            else:
                continue  # numbers, dates, booleans: short once written as text
            longest = pc.max(per_cell).as_py() or 0
            if longest > settings.max_cell_bytes:
                raise _cell_too_long(name, int(longest), settings)
            text_bytes += int(pc.sum(per_cell).as_py() or 0)
        _check_size(cells, text_bytes, settings)


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
    _check_size(max(lines - 1, 0) * len(header), path.stat().st_size, settings)


def _separator(first: bytes) -> str:
    counts = {sep: first.count(sep.encode()) for sep in (",", "\t", ";", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","
