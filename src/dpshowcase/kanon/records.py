"""Records over an attribute index, and the way to and from a table of strings.

Synthetic and anonymized records are kept like sensitive ones — sorted attribute ids per
record (CSR) — so they can be counted by the same engine and compared id by id. As a
table they are written as the release bundle writes synthetic data: one string column
per attribute column, several values of a multi-value column joined by ``;``, absence
as an empty string.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import polars as pl

from dpshowcase.data.attributes import AttributeIndex
from dpshowcase.data.encode import PublicRecords
from dpshowcase.schema.model import Schema

DELIMITER = ";"
"""Joins the values of a multi-value cell (as in the release bundle)."""


@dataclass(frozen=True, eq=False)
class Records:
    """Records as sorted attribute ids: ``indices[indptr[i]:indptr[i+1]]`` is record i."""

    attributes: AttributeIndex
    indptr: np.ndarray
    indices: np.ndarray

    @property
    def n_records(self) -> int:
        """How many records there are."""
        return int(self.indptr.size - 1)

    def record_lengths(self) -> np.ndarray:
        """How many attributes each record holds."""
        return np.diff(self.indptr)

    def attribute_counts(self) -> np.ndarray:
        """How many records hold each attribute."""
        return np.bincount(self.indices, minlength=self.attributes.n_attributes).astype(np.int64)

    def as_data(self, schema: Schema) -> PublicRecords:
        """The records as the counting engine reads them (public: to be released)."""
        return PublicRecords(
            schema=schema, attributes=self.attributes, indptr=self.indptr, indices=self.indices
        )

    def to_frame(self) -> pl.DataFrame:
        """One string column per attribute column (multi-value cells joined by ``;``)."""
        attributes = self.attributes
        n = self.n_records
        record = np.repeat(np.arange(n, dtype=np.int64), self.record_lengths())
        column_of = attributes.attribute_column[self.indices]
        order = np.argsort(column_of, kind="stable")
        bounds = np.searchsorted(column_of[order], np.arange(len(attributes.columns) + 1))
        labels = pl.Series("value", attributes.attribute_value, dtype=pl.String)
        out: dict[str, pl.Series] = {}
        for c, name in enumerate(attributes.columns):
            entries = order[bounds[c] : bounds[c + 1]]
            cells = pl.Series(name, [""] * n, dtype=pl.String)
            if entries.size:
                who = record[entries]
                values = labels.gather(self.indices[entries].astype(np.int64))
                if attributes.multi_value[c]:
                    joined = (
                        pl.DataFrame({"record": who, "value": values})
                        .group_by("record", maintain_order=True)
                        .agg(pl.col("value").str.join(DELIMITER))
                    )
                    who = joined.get_column("record").to_numpy()
                    values = joined.get_column("value")
                cells = cells.scatter(who, values)
            out[name] = cells.alias(name)
        return pl.DataFrame(out)

    @classmethod
    def from_frame(
        cls, frame: pl.DataFrame, attributes: AttributeIndex
    ) -> tuple[Records, Counter[tuple[str, str]]]:
        """Encode a table of strings with an existing attribute index.

        Returns the records and how often each (column, value) the index does not know
        occurs (those values are left out of the records). Columns of the index missing
        from ``frame`` are empty; other columns of ``frame`` are ignored.
        """
        record_parts: list[np.ndarray] = []
        id_parts: list[np.ndarray] = []
        unknown: Counter[tuple[str, str]] = Counter()
        for c, name in enumerate(attributes.columns):
            if name not in frame.columns:
                continue
            ids = attributes.attributes_of(name)
            values = [attributes.attribute_value[a] for a in ids]
            cells = (
                pl.DataFrame({"value": frame.get_column(name).cast(pl.String)})
                .with_row_index("record")
                .filter(pl.col("value").is_not_null() & (pl.col("value") != ""))
            )
            if attributes.multi_value[c]:
                cells = cells.with_columns(pl.col("value").str.split(DELIMITER)).explode("value")
                cells = cells.filter(pl.col("value") != "")
            # values are unique within a column, so an Enum cast numbers them (unknown: null)
            coded = cells.with_columns(
                (
                    pl.col("value").cast(pl.Enum(values), strict=False).to_physical().cast(pl.Int64)
                    + ids.start
                )
                .fill_null(-1)
                .alias("id")
            )
            missing = coded.filter(pl.col("id") < 0)
            for value, n in missing.group_by("value").len().iter_rows():
                unknown[(name, value)] += int(n)
            known = coded.filter(pl.col("id") >= 0)
            record_parts.append(known.get_column("record").to_numpy().astype(np.int64))
            id_parts.append(known.get_column("id").to_numpy().astype(np.int64))
        n = frame.height
        records = np.concatenate(record_parts) if record_parts else np.zeros(0, np.int64)
        held = np.concatenate(id_parts) if id_parts else np.zeros(0, np.int64)
        keys = np.unique(records * (attributes.n_attributes + 1) + held)
        records = keys // (attributes.n_attributes + 1)
        held = keys % (attributes.n_attributes + 1)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(records, minlength=n), out=indptr[1:])
        return cls(attributes=attributes, indptr=indptr, indices=held.astype(np.int32)), unknown


def from_lists(attributes: AttributeIndex, indptr: np.ndarray, indices: np.ndarray) -> Records:
    """Records from CSR arrays whose ids may be unsorted or repeated within a record."""
    n = indptr.size - 1
    record = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    keys = np.unique(record * (attributes.n_attributes + 1) + indices.astype(np.int64))
    record = keys // (attributes.n_attributes + 1)
    out = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(record, minlength=n), out=out[1:])
    ids = (keys % (attributes.n_attributes + 1)).astype(np.int32)
    return Records(attributes=attributes, indptr=out, indices=ids)


def without_empty(records: Records) -> Records:
    """The records that hold at least one attribute."""
    lengths = records.record_lengths()
    keep = lengths > 0
    indptr = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
    np.cumsum(lengths[keep], out=indptr[1:])
    return Records(attributes=records.attributes, indptr=indptr, indices=records.indices)


def shuffled(records: Records, rng: np.random.Generator) -> Records:
    """The same records in a random order (synthetic output must not follow input order)."""
    n = records.n_records
    order = rng.permutation(n)
    lengths = records.record_lengths()[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    starts = records.indptr[:-1][order]
    gather = np.repeat(starts - indptr[:-1], lengths) + np.arange(int(indptr[-1]))
    return Records(attributes=records.attributes, indptr=indptr, indices=records.indices[gather])


def index_map(source: AttributeIndex, target: AttributeIndex) -> np.ndarray:
    """For each attribute of ``source``, its id in ``target`` (same column and value) or -1."""
    where = {
        (target.columns[c], v): a
        for a, (c, v) in enumerate(
            zip(target.attribute_column.tolist(), target.attribute_value, strict=True)
        )
    }
    return np.array(
        [
            where.get((source.columns[c], v), -1)
            for c, v in zip(source.attribute_column.tolist(), source.attribute_value, strict=True)
        ],
        dtype=np.int64,
    )
