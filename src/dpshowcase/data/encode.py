"""Encoding a sensitive table into records of attribute ids, once.

The result, :class:`SensitiveData`, is the only object in dpshowcase that holds
sensitive records. Counting and the protection mechanisms (k-anonymity, DP) read it;
synthesis and evaluation of public output never receive it. Released records (a
bundle's synthetic data, k-anonymized records) are :class:`PublicRecords`: the same
layout, another type.

Records are stored as a compressed sparse row list: ``indices[indptr[i]:indptr[i+1]]``
are the sorted attribute ids of record ``i``. Absence (an empty cell, a null token,
a 0 outside sensitive-zero columns) is simply no id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from dpshowcase.data.attributes import AttributeIndex, natural_key
from dpshowcase.errors import InputError, SchemaError
from dpshowcase.schema.binning import assign_bins, bin_labels, is_whole, quantile_edges
from dpshowcase.schema.conventions import (
    ZERO_VALUES,
    looks_like_identifier,
    looks_like_numeric_identifier,
)
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema


@dataclass(frozen=True, eq=False)
class EncodedRecords:
    """Records as sorted attribute-id lists under a schema: what the counting engine reads.

    Not made directly: :class:`SensitiveData` holds sensitive records and
    :class:`PublicRecords` released ones, so a signature says which it may receive.
    """

    schema: Schema
    attributes: AttributeIndex
    indptr: np.ndarray
    """int64, length n_records + 1."""
    indices: np.ndarray
    """int32 attribute ids, sorted within each record."""

    @property
    def n_records(self) -> int:
        """Number of records (subjects, when the schema names a subject id)."""
        return int(self.indptr.size - 1)

    def record_lengths(self) -> np.ndarray:
        """How many attributes each record holds."""
        return np.diff(self.indptr)

    def record(self, i: int) -> np.ndarray:
        """The attribute ids of record ``i``."""
        return self.indices[self.indptr[i] : self.indptr[i + 1]]


@dataclass(frozen=True, eq=False)
class SensitiveData(EncodedRecords):
    """Sensitive records as sorted attribute-id lists. Never hand this to public code."""

    source_rows: int
    """Rows in the file; more than ``n_records`` when rows of one subject were merged."""

    @property
    def privacy_unit(self) -> str:
        """What one neighbouring dataset differs by: a record or a subject."""
        return "subject" if self.schema.subject_id else "record"


@dataclass(frozen=True, eq=False)
class PublicRecords(EncodedRecords):
    """Released records (synthetic, or k-anonymized): public, counted like sensitive ones."""


@dataclass(frozen=True)
class _EncodedColumn:
    values: tuple[str, ...]
    rows: list[np.ndarray]
    """For each value, the rows holding it (each row at most once per value)."""


def encode(
    frame: pl.DataFrame, schema: Schema, *, allow_identifiers: bool = False
) -> SensitiveData:
    """Encode ``frame`` (string columns) as records of attribute ids under ``schema``."""
    missing = [c for c in schema.source_columns if c not in frame.columns]
    if missing:
        available = ", ".join(frame.columns[:12]) + (" …" if frame.width > 12 else "")
        raise SchemaError(
            f"The data has no column {missing[0]!r} named in the schema "
            f"(columns found: {available}); fix the schema or the file."
        )
    n_rows = frame.height
    nulls = list(schema.null_values)
    encoded: list[_EncodedColumn] = []
    for spec in schema.columns:
        series = frame.get_column(spec.name).cast(pl.String).str.strip_chars()
        series = pl.select(
            pl.when(series.is_in(nulls)).then(None).otherwise(series).alias(spec.name)
        ).to_series()
        if spec.kind is ColumnKind.CATEGORICAL:
            encoded.append(_encode_categorical(series, spec, allow_identifiers))
        elif spec.kind is ColumnKind.NUMERIC:
            encoded.append(_encode_numeric(series, spec, allow_identifiers))
        else:
            encoded.append(_encode_multi_value(series, spec, nulls))
    attributes = AttributeIndex(
        columns=schema.column_names,
        multi_value=tuple(s.kind is ColumnKind.MULTI_VALUE for s in schema.columns),
        attribute_column=np.repeat(
            np.arange(len(encoded), dtype=np.int32), [len(c.values) for c in encoded]
        ),
        attribute_value=tuple(v for c in encoded for v in c.values),
    )
    indptr, indices = _to_csr(encoded, n_rows)
    if schema.subject_id:
        indptr, indices = _merge_subjects(
            frame.get_column(schema.subject_id), indptr, indices, nulls
        )
    return SensitiveData(
        schema=schema, attributes=attributes, indptr=indptr, indices=indices, source_rows=n_rows
    )


def encode_public(frame: pl.DataFrame, schema: Schema) -> PublicRecords:
    """Encode released records (e.g. a bundle's synthetic.csv): public, not sensitive.

    No identifier check: the records are already public, whatever their values.
    """
    data = encode(frame, schema, allow_identifiers=True)
    return PublicRecords(
        schema=data.schema, attributes=data.attributes, indptr=data.indptr, indices=data.indices
    )


def _encode_categorical(
    series: pl.Series, spec: ColumnSpec, allow_identifiers: bool
) -> _EncodedColumn:
    if not spec.sensitive_zero:
        # a zero listed among the declared categories is a value, not absence
        zeros = [z for z in ZERO_VALUES if z not in (spec.categories or ())]
        series = pl.select(pl.when(series.is_in(zeros)).then(None).otherwise(series)).to_series()
    present = series.drop_nulls()
    seen = sorted(present.unique().to_list(), key=natural_key)
    if spec.categories is not None:
        # a public domain: every declared value is an attribute, seen or not
        unknown = [v for v in seen if v not in spec.categories]
        if unknown:
            raise SchemaError(
                f"Column {spec.name!r} holds the value {unknown[0]!r}, which is not among "
                "its declared categories; add it to the categories in the schema (or to "
                "null_values if it means no value)."
            )
        values = list(spec.categories)
    else:
        values = seen
    _refuse_empty(spec, present.len(), series.len())
    n_present = present.len()
    if not (allow_identifiers or spec.allow_identifier):
        _refuse_identifier(spec.name, len(values), n_present, "bin it, ")
    codes = series.cast(pl.Enum(values)).to_physical().to_numpy()
    return _rows_by_code(codes, len(values), values)


def _refuse_empty(spec: ColumnSpec, present: int, rows: int) -> None:
    """A column the schema declares never empty must hold a value in every row."""
    if not spec.can_be_empty and present < rows:
        raise SchemaError(
            f"Column {spec.name!r} has {rows - present:,} empty cells (or null values) but the "
            "schema says it is never empty; set may_be_empty = true for it, or fill the cells."
        )


def _refuse_identifier(name: str, distinct: int, present: int, options: str) -> None:
    if looks_like_identifier(distinct, present):
        raise SchemaError(
            f"Column {name!r} looks like an identifier ({distinct:,} distinct values in "
            f"{present:,} rows): identifiers must not be released; drop it from the schema, "
            f"{options}or set allow_identifier = true for it if you are sure."
        )


def _encode_numeric(series: pl.Series, spec: ColumnSpec, allow_identifiers: bool) -> _EncodedColumn:
    numbers = series.cast(pl.Float64, strict=False)
    bad = series.is_not_null() & numbers.is_null()
    if bad.any():
        example = series.filter(bad)[0]
        raise SchemaError(
            f"Column {spec.name!r} is numeric but holds the value {example!r}; make it "
            "categorical in the schema or add the value to null_values."
        )
    values = numbers.fill_null(float("nan")).to_numpy().astype(np.float64)
    if (
        not (allow_identifiers or spec.allow_identifier)
        and looks_like_numeric_identifier(values)
    ):
        finite = values[np.isfinite(values)]
        _refuse_identifier(spec.name, int(np.unique(finite).size), int(finite.size), "")
    edges = (
        spec.bins
        if spec.bins is not None
        else quantile_edges(values, spec.quantiles or 5, spec.name)
    )
    labels = bin_labels(edges, whole_numbers=is_whole(values), open_ended=spec.open_ended)
    codes = assign_bins(values, edges, spec.name, open_ended=spec.open_ended).astype(np.float64)
    codes[codes < 0] = np.nan
    _refuse_empty(spec, int(np.count_nonzero(~np.isnan(codes))), codes.size)
    return _rows_by_code(codes, len(labels), labels)


def _rows_by_code(
    codes: np.ndarray, n_values: int, values: tuple[str, ...] | list[str]
) -> _EncodedColumn:
    """Group row numbers by code (nan or null marks absence)."""
    codes = np.asarray(codes, dtype=np.float64)
    present = ~np.isnan(codes)
    rows = np.flatnonzero(present)
    int_codes = codes[present].astype(np.int64)
    order = np.argsort(int_codes, kind="stable")
    bounds = np.searchsorted(int_codes[order], np.arange(n_values + 1))
    groups = [rows[order[bounds[v] : bounds[v + 1]]] for v in range(n_values)]
    return _EncodedColumn(values=tuple(values), rows=groups)


def _encode_multi_value(series: pl.Series, spec: ColumnSpec, nulls: list[str]) -> _EncodedColumn:
    exploded = (
        pl.DataFrame({"value": series})
        .with_row_index("row")
        .with_columns(pl.col("value").str.split(spec.delimiter))
        .explode("value")
        .with_columns(pl.col("value").str.strip_chars())
        .filter(pl.col("value").is_not_null() & ~pl.col("value").is_in(nulls))
    )
    if not spec.sensitive_zero:
        exploded = exploded.filter(~pl.col("value").is_in(ZERO_VALUES))
    exploded = exploded.unique(["row", "value"])
    values = sorted(exploded.get_column("value").unique().to_list(), key=natural_key)
    codes = exploded.get_column("value").cast(pl.Enum(values)).to_physical().to_numpy()
    rows = exploded.get_column("row").to_numpy().astype(np.int64)
    order = np.lexsort((rows, codes))
    bounds = np.searchsorted(codes[order], np.arange(len(values) + 1))
    groups = [rows[order[bounds[v] : bounds[v + 1]]] for v in range(len(values))]
    return _EncodedColumn(values=tuple(values), rows=groups)


def _to_csr(columns: list[_EncodedColumn], n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Fill attribute ids row by row; ids grow with column and value, so rows come out sorted."""
    per_row = np.zeros(n_rows, dtype=np.int64)
    for column in columns:
        for rows in column.rows:
            per_row[rows] += 1
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(per_row, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    fill = indptr[:-1].copy()
    attribute = 0
    for column in columns:
        for rows in column.rows:
            indices[fill[rows]] = attribute
            fill[rows] += 1
            attribute += 1
    return indptr, indices


def _merge_subjects(
    subject: pl.Series, indptr: np.ndarray, indices: np.ndarray, nulls: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """One record per subject holding every attribute any of its rows holds."""
    ids = subject.cast(pl.String).str.strip_chars()
    missing = ids.is_null() | ids.is_in(nulls)
    if missing.any():
        raise InputError(
            f"{int(missing.sum()):,} rows have no value in the subject-id column "
            f"{subject.name!r}; fill it in or remove subject_id from the schema."
        )
    subject_of_row = ids.rank("dense").to_numpy().astype(np.int64) - 1
    n_subjects = int(subject_of_row.max()) + 1
    n_attributes = int(indices.max()) + 1 if indices.size else 1
    row_of_entry = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    keys = np.unique(subject_of_row[row_of_entry] * n_attributes + indices.astype(np.int64))
    merged_subject = keys // n_attributes
    merged_indices = (keys % n_attributes).astype(np.int32)
    counts = np.bincount(merged_subject, minlength=n_subjects)
    merged_indptr = np.zeros(n_subjects + 1, dtype=np.int64)
    np.cumsum(counts, out=merged_indptr[1:])
    return merged_indptr, merged_indices
