"""Putting the sources of an evaluation side by side, in one attribute space.

An evaluation may hold three sources: the sensitive records, the protected aggregates
and the synthetic records. Each is encoded on its own (its own attribute ids), so this
module puts them in one space:

- *count tables* — ``combination, length, count`` with the combination written as its
  canonical label (``column:value;column:value``, columns in schema order, values of a
  multi-value column in natural order, escaped): the same combination has the same
  label whichever source it comes from, so tables are compared by joining on labels;
- *record codes* — one small integer per record and *record column*, for the metrics
  that look at whole records (marginals, propensity, matches, distances). A single-
  valued column is one record column whose code 0 means "no value" and 1.. the values;
  a multi-value column becomes one yes/no record column per value (as it behaves in
  counting: each value an attribute of its own).

Synthetic records are released with numeric columns already binned (their cells hold
range labels), so they are encoded under :meth:`Schema.as_released
<dpshowcase.schema.model.Schema.as_released>` (the one released schema), where every
numeric column is categorical.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.data.attributes import AttributeIndex, escape, natural_key
from dpshowcase.data.encode import EncodedRecords, PublicRecords, encode_public
from dpshowcase.schema.binning import quantile_edges
from dpshowcase.schema.model import ColumnKind, Schema

__all__ = [
    "RecordSpace",
    "canonical_label",
    "compact_codes",
    "count_table",
    "encode_released",
    "fixed_bins",
    "record_codes",
    "record_space",
]


def fixed_bins(schema: Schema, frame: pl.DataFrame) -> Schema:
    """``schema`` with the quantile bins of numeric columns fixed to ``frame``'s edges.

    Encoding a part of the data (a holdout, a half) must bin it as the whole was binned.
    """
    columns = []
    for spec in schema.columns:
        if spec.kind is ColumnKind.NUMERIC and spec.bins is None and spec.name in frame.columns:
            text = frame.get_column(spec.name).cast(pl.String).str.strip_chars()
            numbers = (
                pl.select(pl.when(text.is_in(list(schema.null_values))).then(None).otherwise(text))
                .to_series()
                .cast(pl.Float64, strict=False)
                .fill_null(float("nan"))
                .to_numpy()
            )
            edges = quantile_edges(numbers, spec.quantiles or 5, spec.name)
            spec = replace(spec, bins=edges, quantiles=None)
        columns.append(spec)
    return Schema(
        columns=tuple(columns), subject_id=schema.subject_id, null_values=schema.null_values
    )


def encode_released(frame: pl.DataFrame, schema: Schema) -> PublicRecords:
    """Encode released records (e.g. synthetic.csv) under :meth:`Schema.as_released`.

    Columns of the schema that the frame lacks are taken as empty.
    """
    missing = [c for c in schema.column_names if c not in frame.columns]
    if missing:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
    return encode_public(frame, schema.as_released())


def count_table(data: EncodedRecords, reporting_length: int) -> pl.DataFrame:
    """Every combination of 1..R attributes in ``data`` with its count, labelled."""
    r = min(reporting_length, max(len(data.attributes.columns), 1))
    return count_combinations(data, r).to_frame()


def canonical_label(pairs: Sequence[tuple[str, str]], columns: Sequence[str]) -> str:
    """The label of a combination given as (column, value) pairs, as count tables write it.

    Columns follow ``columns`` (schema order); values of one column natural order.
    """
    order = {name: i for i, name in enumerate(columns)}
    ranked = sorted(pairs, key=lambda p: (order.get(p[0], len(order)), natural_key(p[1])))
    return ";".join(f"{escape(c)}:{escape(v)}" for c, v in ranked)


@dataclass(frozen=True, eq=False)
class RecordSpace:
    """The record columns shared by several encoded sources."""

    attributes: AttributeIndex
    """The union of the sources' attributes, in schema order."""
    names: tuple[str, ...]
    """Record column names: a column's name, or ``column:value`` for a multi-value flag."""
    cardinality: np.ndarray
    """Codes per record column, absence (code 0) included."""
    attribute_slot: np.ndarray
    """Per union attribute: its record column."""
    attribute_code: np.ndarray
    """Per union attribute: its code (≥ 1) in that record column."""
    values: tuple[tuple[str, ...], ...]
    """Per record column: the label of each code (code 0 is ``""``)."""
    source_column: tuple[str, ...]
    """Per record column: the schema column it comes from."""


def record_space(sources: Sequence[EncodedRecords]) -> tuple[RecordSpace, list[np.ndarray]]:
    """The union space of ``sources`` and, per source, its attribute id → union id map.

    All sources must have the same columns in the same order (one schema).
    """
    columns = sources[0].attributes.columns
    multi = sources[0].attributes.multi_value
    values: list[list[str]] = []
    for c, name in enumerate(columns):
        seen: set[str] = set()
        for source in sources:
            index = source.attributes
            seen.update(index.attribute_value[a] for a in index.attributes_of(name))
        values.append(sorted(seen, key=natural_key))
        del c
    union = AttributeIndex(
        columns=columns,
        multi_value=multi,
        attribute_column=np.repeat(
            np.arange(len(columns), dtype=np.int32), [len(v) for v in values]
        ),
        attribute_value=tuple(v for vs in values for v in vs),
    )
    lookup = {
        (columns[int(c)], v): i
        for i, (c, v) in enumerate(zip(union.attribute_column, union.attribute_value, strict=True))
    }
    maps = []
    for source in sources:
        index = source.attributes
        maps.append(
            np.array(
                [
                    lookup[(index.columns[int(c)], v)]
                    for c, v in zip(index.attribute_column, index.attribute_value, strict=True)
                ],
                dtype=np.int64,
            )
        )
    names: list[str] = []
    cardinality: list[int] = []
    code_values: list[tuple[str, ...]] = []
    source_column: list[str] = []
    slot = np.zeros(union.n_attributes, dtype=np.int64)
    code = np.zeros(union.n_attributes, dtype=np.int64)
    for c, name in enumerate(columns):
        ids = list(union.attributes_of(name))
        if multi[c]:
            for a in ids:
                slot[a] = len(names)
                code[a] = 1
                names.append(union.labels[a])
                cardinality.append(2)
                code_values.append(("", "1"))
                source_column.append(name)
        else:
            slot[ids] = len(names)
            code[ids] = np.arange(1, len(ids) + 1)
            names.append(name)
            cardinality.append(len(ids) + 1)
            code_values.append(("", *(union.attribute_value[a] for a in ids)))
            source_column.append(name)
    space = RecordSpace(
        attributes=union,
        names=tuple(names),
        cardinality=np.array(cardinality, dtype=np.int64),
        attribute_slot=slot,
        attribute_code=code,
        values=tuple(code_values),
        source_column=tuple(source_column),
    )
    return space, maps


def record_codes(data: EncodedRecords, id_map: np.ndarray, space: RecordSpace) -> np.ndarray:
    """Codes of every record, shape (record columns, records), C order, int32."""
    n = data.n_records
    codes = np.zeros((len(space.names), n), dtype=np.int32)
    if data.indices.size:
        union_ids = id_map[data.indices.astype(np.int64)]
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(data.indptr))
        codes[space.attribute_slot[union_ids], rows] = space.attribute_code[union_ids]
    return codes


def compact_codes(codes: np.ndarray, cardinality: np.ndarray) -> np.ndarray:
    """``codes`` in the narrowest unsigned type that holds them, C order.

    The compiled metrics stream record codes many times; one byte a code instead of
    four makes them several times faster.
    """
    top = int(np.max(cardinality, initial=1))
    dtype = np.uint8 if top <= 1 << 8 else np.uint16 if top <= 1 << 16 else np.int32
    return np.ascontiguousarray(codes, dtype=dtype)
