"""Writing and reading combination-count tables (``combination,length,count``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from dpshowcase._io.atomic import atomic_path
from dpshowcase._io.csv_guard import unguard_frame, write_csv
from dpshowcase.errors import InputError

COUNT_COLUMNS = ("combination", "length", "count")


def write_table(
    frame: pl.DataFrame, path: Path, before_publish: Callable[[Path], None] | None = None
) -> None:
    """Write ``frame`` as CSV, or Parquet when the name ends in .parquet, atomically.

    A CSV is guarded against spreadsheet formulas (see :mod:`dpshowcase._io.csv_guard`).
    ``before_publish`` is called with the complete temporary file just before it is
    renamed into place (the privacy ledger commits there); an error it raises leaves
    no file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise InputError(f"Cannot write {path}: name the output .csv or .parquet.")
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            write_csv(frame, tmp)
        else:
            frame.write_parquet(tmp)
        if before_publish is not None:
            before_publish(tmp)


def read_counts(path: Path) -> pl.DataFrame:
    """Read a count table written by ``write_table`` (CSV or Parquet)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"The count table {path} does not exist.")
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = pl.read_parquet(path)
    else:
        frame = unguard_frame(pl.read_csv(path, schema_overrides={"combination": pl.String}))
    if tuple(frame.columns) != COUNT_COLUMNS:
        raise InputError(
            f"{path} is not a count table (expected columns {', '.join(COUNT_COLUMNS)})."
        )
    return frame
