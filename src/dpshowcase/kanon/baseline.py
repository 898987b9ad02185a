"""Classic k-anonymization, kept as the baseline that shows what it loses.

Given quasi-identifier columns and k: values are first generalised by the user's
hierarchies (e.g. age bands merged), then every record whose combination of
quasi-identifier values is shared by fewer than k records is suppressed (dropped). What
is left is k-anonymous with respect to the quasi-identifiers only — unlike "full"
k-anonymity synthesis, which protects every combination of every column. The first
Global Synthetic Dataset replaced such a release (k = 11), which had dropped about 40%
of the cases.

An empty cell is a value of its own here ("not recorded"); a multi-value cell's set of
values is one value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from dpshowcase.data.attributes import AttributeIndex, natural_key
from dpshowcase.data.encode import SensitiveData
from dpshowcase.errors import ParameterError
from dpshowcase.kanon.hierarchy import Hierarchy
from dpshowcase.kanon.protect import check_k
from dpshowcase.kanon.records import Records, from_lists


@dataclass(frozen=True)
class AnonymizationReport:
    """What classic k-anonymization did to the data."""

    k: int
    quasi_identifiers: tuple[str, ...]
    records: int
    """Records before."""
    kept: int
    """Records after suppression."""
    unique_before: int
    """Records whose quasi-identifier combination no other record shares (before
    generalisation): the records most exposed to re-identification."""
    below_k_before: int
    """Records in combinations shared by fewer than k records, before generalisation."""
    classes: int
    """Quasi-identifier combinations (equivalence classes) left, each of ≥ k records."""
    values_generalised: int
    """Values that the hierarchies merged into a group."""

    @property
    def dropped(self) -> int:
        """Records suppressed."""
        return self.records - self.kept

    def share(self, n: int) -> float:
        """``n`` as a share of all records."""
        return n / self.records if self.records else 0.0

    def as_dict(self) -> dict[str, Any]:
        """For reports and JSON."""
        return {
            "k": self.k,
            "quasi_identifiers": list(self.quasi_identifiers),
            "records": self.records,
            "kept": self.kept,
            "dropped": self.dropped,
            "dropped_share": round(self.share(self.dropped), 6),
            "unique_before": self.unique_before,
            "unique_before_share": round(self.share(self.unique_before), 6),
            "below_k_before": self.below_k_before,
            "classes": self.classes,
            "values_generalised": self.values_generalised,
        }


@dataclass(frozen=True, eq=False)
class KAnonymized:
    """The k-anonymized records (over the generalised attribute index) and the report."""

    records: Records
    report: AnonymizationReport


def k_anonymize(
    data: SensitiveData,
    quasi_identifiers: Sequence[str],
    k: int,
    hierarchy: Hierarchy | None = None,
) -> KAnonymized:
    """Generalise by ``hierarchy``, then drop records in quasi-identifier classes below k."""
    check_k(k)
    columns = data.attributes.columns
    quasi = tuple(dict.fromkeys(q.strip() for q in quasi_identifiers if q.strip()))
    if not quasi:
        raise ParameterError("Name at least one quasi-identifier column (e.g. --quasi gender).")
    for name in quasi:
        if name not in columns:
            raise ParameterError(
                f"Unknown quasi-identifier {name!r}; the data's columns are: "
                f"{', '.join(columns[:20])}{' …' if len(columns) > 20 else ''}."
            )
    hierarchy = hierarchy or {}
    for name in hierarchy:
        if name not in quasi:
            raise ParameterError(
                f"The hierarchy generalises {name!r}, which is not a quasi-identifier; add it "
                "to the quasi-identifiers or remove it from the hierarchy."
            )
    index, new_id, merged = _generalised_index(data.attributes, hierarchy)
    record_of = np.repeat(np.arange(data.n_records), data.record_lengths())
    quasi_columns = [columns.index(q) for q in quasi]
    in_quasi = np.isin(data.attributes.attribute_column[data.indices], quasi_columns)
    before = _keys(data.n_records, record_of[in_quasi], data.indices[in_quasi])
    after = _keys(data.n_records, record_of[in_quasi], new_id[data.indices[in_quasi]])
    before_sizes = _class_sizes(before)
    keep = _class_sizes(after) >= k
    kept_entries = keep[record_of]
    lengths = np.bincount(record_of[kept_entries], minlength=data.n_records)[keep]
    indptr = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    records = from_lists(index, indptr, new_id[data.indices[kept_entries]])
    report = AnonymizationReport(
        k=k,
        quasi_identifiers=quasi,
        records=data.n_records,
        kept=int(keep.sum()),
        unique_before=int((before_sizes == 1).sum()),
        below_k_before=int((before_sizes < k).sum()),
        classes=int(after.filter(pl.Series(keep)).n_unique()),
        values_generalised=merged,
    )
    return KAnonymized(records=records, report=report)


def _generalised_index(
    attributes: AttributeIndex, hierarchy: Hierarchy
) -> tuple[AttributeIndex, np.ndarray, int]:
    """The attribute index after generalisation, old id → new id, and values merged."""
    values: list[str] = []
    column_of: list[int] = []
    new_id = np.empty(attributes.n_attributes, dtype=np.int64)
    merged = 0
    for c, name in enumerate(attributes.columns):
        ids = attributes.attributes_of(name)
        mapping = hierarchy.get(name, {})
        originals = [attributes.attribute_value[a] for a in ids]
        mapped = [mapping.get(v, v) for v in originals]
        merged += sum(1 for v in originals if v in mapping)
        groups = sorted(set(mapped), key=natural_key)
        first = len(values)
        position = {g: first + i for i, g in enumerate(groups)}
        values.extend(groups)
        column_of.extend([c] * len(groups))
        for a, g in zip(ids, mapped, strict=True):
            new_id[a] = position[g]
    index = AttributeIndex(
        columns=attributes.columns,
        multi_value=attributes.multi_value,
        attribute_column=np.asarray(column_of, dtype=np.int32),
        attribute_value=tuple(values),
    )
    return index, new_id, merged


def _keys(n_records: int, record_of: np.ndarray, ids: np.ndarray) -> pl.Series:
    """Per record, its quasi-identifier values as one text key (empty cells included)."""
    entries = (
        pl.DataFrame({"record": record_of, "id": ids.astype(np.int64)})
        .unique()
        .sort("record", "id")
        .group_by("record", maintain_order=True)
        .agg(pl.col("id").cast(pl.String).str.join(","))
    )
    return (
        pl.DataFrame({"record": np.arange(n_records, dtype=np.int64)})
        .join(entries, on="record", how="left")
        .sort("record")
        .get_column("id")
        .fill_null("")
    )


def _class_sizes(keys: pl.Series) -> np.ndarray:
    """For each record, how many records share its key."""
    return (
        pl.DataFrame({"key": keys})
        .select(pl.len().over("key").alias("size"))
        .get_column("size")
        .to_numpy()
        .astype(np.int64)
    )
