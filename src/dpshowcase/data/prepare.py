"""From a file path (and optionally a schema) to encoded sensitive records."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dpshowcase.data.encode import SensitiveData, encode
from dpshowcase.data.load import read_table
from dpshowcase.schema.model import Schema
from dpshowcase.schema.toml_io import load_schema


def prepare(
    data: Path | str | pl.DataFrame,
    schema: Schema | Path | str | None = None,
    *,
    null_values: tuple[str, ...] = (),
    allow_identifiers: bool = False,
) -> SensitiveData:
    """Read ``data`` and encode it under ``schema``.

    With no schema every column is categorical, an empty cell (or a null token) is no
    attribute, and a 0 is no attribute: the convention of synthetic-data-showcase.
    """
    frame = data if isinstance(data, pl.DataFrame) else read_table(Path(data))
    if schema is None:
        resolved = Schema.all_categorical(frame.columns)
    elif isinstance(schema, Schema):
        resolved = schema
    else:
        resolved = load_schema(Path(schema))
    if null_values:
        resolved = Schema(
            columns=resolved.columns,
            subject_id=resolved.subject_id,
            null_values=(*resolved.null_values, *null_values),
            structural_zeros=resolved.structural_zeros,
        )
    return encode(frame, resolved, allow_identifiers=allow_identifiers)
