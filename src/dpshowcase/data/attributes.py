"""The attribute index: every (column, value) pair a dataset can hold, numbered.

Attributes are numbered column by column in schema order, values in natural order
within a column, so a record's sorted attribute ids list its attributes in schema
order. That order is also the order in which a combination is written:
``column:value;column:value`` with ``;``, ``:`` and ``\\`` escaped by a backslash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from dpshowcase.errors import ParameterError
from dpshowcase.schema.labels import escape, natural_key, split_combination

__all__ = ["AttributeIndex", "escape", "natural_key", "split_combination"]


@dataclass(frozen=True, eq=False)
class AttributeIndex:
    """The numbered attributes of a dataset and the column each belongs to."""

    columns: tuple[str, ...]
    """Source column names in schema order."""
    multi_value: tuple[bool, ...]
    """Per column: whether a record may hold several of its values."""
    attribute_column: np.ndarray
    """Per attribute: index into ``columns`` (int32, non-decreasing)."""
    attribute_value: tuple[str, ...]
    """Per attribute: the value label."""
    _label_cache: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        column = np.asarray(self.attribute_column, dtype=np.int32)
        object.__setattr__(self, "attribute_column", column)
        if column.size != len(self.attribute_value):
            raise ParameterError("attribute_column and attribute_value differ in length")
        if column.size and np.any(np.diff(column) < 0):
            raise ParameterError("attributes must be numbered column by column")

    @property
    def n_attributes(self) -> int:
        """How many attributes there are."""
        return len(self.attribute_value)

    @cached_property
    def labels(self) -> tuple[str, ...]:
        """``column:value`` for every attribute, escaped."""
        escaped_columns = [escape(c) for c in self.columns]
        return tuple(
            f"{escaped_columns[c]}:{escape(v)}"
            for c, v in zip(self.attribute_column.tolist(), self.attribute_value, strict=True)
        )

    @cached_property
    def column_offsets(self) -> np.ndarray:
        """First attribute id of each column; the last entry is ``n_attributes``."""
        counts = np.bincount(self.attribute_column, minlength=len(self.columns))
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def attributes_of(self, column: str) -> range:
        """The attribute ids of one column."""
        i = self.columns.index(column)
        return range(int(self.column_offsets[i]), int(self.column_offsets[i + 1]))

    def find(self, column: str, value: str) -> int | None:
        """The id of ``column:value``, or None when the dataset has no such attribute."""
        if column not in self.columns:
            return None
        for attribute in self.attributes_of(column):
            if self.attribute_value[attribute] == value:
                return attribute
        return None

    def combination_label(self, attributes: tuple[int, ...] | list[int]) -> str:
        """``column:value;column:value`` for a combination of attribute ids."""
        labels = self.labels
        return ";".join(labels[a] for a in sorted(attributes))

    def subset(self, keep: np.ndarray) -> tuple[AttributeIndex, np.ndarray]:
        """An index of the attributes where ``keep`` is true, and old→new ids (-1: dropped)."""
        keep = np.asarray(keep, dtype=bool)
        new_ids = np.full(self.n_attributes, -1, dtype=np.int64)
        new_ids[keep] = np.arange(int(keep.sum()))
        values = tuple(v for v, k in zip(self.attribute_value, keep.tolist(), strict=True) if k)
        index = AttributeIndex(
            columns=self.columns,
            multi_value=self.multi_value,
            attribute_column=self.attribute_column[keep],
            attribute_value=values,
        )
        return index, new_ids
