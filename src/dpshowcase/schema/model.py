"""The schema: which columns of a sensitive table become attributes, and how.

A schema is what a data officer checks before anything is counted. It names the
columns to use and, for each, how its cells become attributes:

- ``categorical``: every distinct value is an attribute (``ageBroad:39--47``);
- ``numeric``: values are binned into ranges (explicit edges or quantiles) and the
  range label is the attribute (``AGEP:18--29``); with ``open_ended`` the first and last
  bins have no outer edge (``AGEP:< 20``, ``AGEP:≥ 80``), so no data extreme is
  published; ``edges`` says whether the edges are ``"public"`` (chosen without looking
  at the data) or ``"inferred"`` (proposed from the data by ``schema infer``, which a DP
  release refuses until a person marks them public or DP edges are asked for);
- ``multi_value``: a cell such as ``Female;Male`` holds several values joined by a
  delimiter; each value is an attribute of its own (``IP_Gender:Female`` and
  ``IP_Gender:Male``), so the column behaves as one yes/no flag per value.

Empty cells (and the schema's null tokens) are absence, never an attribute. In a
categorical column ``0`` is absence too, unless the column is a *sensitive zero*
column, where 0 is a real answer. An optional subject-id column groups several rows
of one person (the privacy unit becomes that person); it is never an attribute.

The schema may also list *structural zeros*: combinations that cannot occur (public
knowledge, e.g. ``ageBroad:0--8;maritalStatus:Married``). They are never released,
whatever the noise, and never written into synthetic records.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from enum import StrEnum

from dpshowcase.errors import SchemaError
from dpshowcase.schema.labels import split_combination

EDGE_SOURCES = ("public", "inferred", "dp")
"""Where a numeric column's explicit bin edges came from (the ``edges`` key): "dp" marks
edges a DP release chose with DP quantiles (written into its manifest's schema)."""


class ColumnKind(StrEnum):
    """How a column's cells become attributes."""

    CATEGORICAL = "categorical"
    NUMERIC = "numeric"
    MULTI_VALUE = "multi_value"


@dataclass(frozen=True, kw_only=True)
class ColumnSpec:
    """How one column of the sensitive table becomes attributes."""

    name: str
    """The column's name in the data file."""
    kind: ColumnKind = ColumnKind.CATEGORICAL
    """categorical, numeric (binned) or multi_value (delimited values)."""
    sensitive_zero: bool = False
    """Categorical only: ``0`` is a real answer here, not absence."""
    bins: tuple[float, ...] | None = None
    """Numeric only: explicit bin edges, ascending; values must lie within them."""
    quantiles: int | None = None
    """Numeric only: number of equal-frequency bins when no edges are given."""
    delimiter: str = ";"
    """Multi-value only: the separator between values in one cell."""
    allow_identifier: bool = False
    """Use the column even though nearly every value in it is distinct."""
    open_ended: bool = False
    """Numeric with bins only: values below the first edge and from the last edge on get
    bins of their own (``< 20``, ``≥ 80``) instead of being refused."""
    edges: str | None = None
    """Numeric with bins only: "public" (chosen without the data: released as they are)
    or "inferred" (proposed from the data); None, for edges written by hand, counts as
    public."""
    categories: tuple[str, ...] | None = None
    """Categorical only: every value the column can hold, from public knowledge (e.g. a
    data dictionary): a public domain. Each is an attribute even when no record holds
    it; a value outside the list is refused. AIM and MST then keep every listed value
    without a threshold (none is suppressed, no budget decides the domain)."""
    may_be_empty: bool | None = None
    """Whether a record may hold no value in this column. None: yes, unless
    ``categories`` are declared. When False, a record without a value is refused, and
    AIM and MST give the column no "no value" cell when its domain is public
    (``categories``, or numeric ``bins``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _kind(self.name, self.kind))
        if not self.name:
            raise SchemaError("A column in the schema has an empty name; give every column a name.")
        if self.categories is not None:
            self._check_categories()
        if self.may_be_empty is not None and not isinstance(self.may_be_empty, bool):
            raise SchemaError(
                f"Column {self.name!r} has may_be_empty = {self.may_be_empty!r}; write true "
                "or false (without quotes)."
            )
        if self.kind is ColumnKind.NUMERIC:
            self._check_numeric()
        elif (
            self.bins is not None
            or self.quantiles is not None
            or self.open_ended
            or self.edges is not None
        ):
            raise SchemaError(
                f"Column {self.name!r} is {self.kind.value} but has bins or quantiles (or "
                "open_ended, edges); only numeric columns are binned."
            )
        if self.kind is ColumnKind.MULTI_VALUE and not self.delimiter:
            raise SchemaError(f"Multi-value column {self.name!r} needs a non-empty delimiter.")

    @property
    def can_be_empty(self) -> bool:
        """Whether a record may hold no value here (see :attr:`may_be_empty`)."""
        if self.may_be_empty is not None:
            return self.may_be_empty
        return self.categories is None

    @property
    def public_domain(self) -> bool:
        """Whether the column's values are public knowledge (declared categories, or
        the bins of explicit public edges): no value is learnt from the data."""
        if self.categories is not None:
            return True
        numeric = self.kind is ColumnKind.NUMERIC
        return numeric and self.bins is not None and self.edges != "inferred"

    def _check_categories(self) -> None:
        if self.kind is not ColumnKind.CATEGORICAL:
            raise SchemaError(
                f"Column {self.name!r} is {self.kind.value} but lists categories; only a "
                "categorical column has them (a numeric column's bins are its domain)."
            )
        values = self.categories
        if isinstance(values, str) or not all(isinstance(v, str) for v in values or ()):
            raise SchemaError(
                f"The categories of column {self.name!r} must be a list of strings, such as "
                '["1", "2", "N"].'
            )
        cleaned = tuple(v.strip() for v in values or ())
        if not cleaned or "" in cleaned:
            raise SchemaError(
                f"Column {self.name!r} lists no categories or an empty one; list every value "
                "the column can hold (an empty cell is set by may_be_empty)."
            )
        if len(set(cleaned)) != len(cleaned):
            raise SchemaError(f"Column {self.name!r} lists a category twice; list each once.")
        object.__setattr__(self, "categories", cleaned)

    def _check_numeric(self) -> None:
        if self.bins is None and self.quantiles is None:
            raise SchemaError(
                f"Numeric column {self.name!r} needs either bins (edges) or quantiles (a count)."
            )
        if self.bins is not None and self.quantiles is not None:
            raise SchemaError(
                f"Numeric column {self.name!r} has both bins and quantiles; keep one of them."
            )
        if self.bins is None and (self.open_ended or self.edges is not None):
            raise SchemaError(
                f"Numeric column {self.name!r} has open_ended or edges but no bins; they "
                "describe explicit bin edges only."
            )
        if self.edges is not None and self.edges not in EDGE_SOURCES:
            raise SchemaError(
                f"Column {self.name!r} has edges = {self.edges!r}; write \"public\" (chosen "
                'without looking at the data) or "inferred" (proposed from the data).'
            )
        if self.bins is not None:
            edges = tuple(float(e) for e in self.bins)
            needed = 1 if self.open_ended else 2
            if len(edges) < needed or any(not math.isfinite(e) for e in edges):
                raise SchemaError(
                    f"Numeric column {self.name!r} needs at least "
                    f"{'one finite bin edge' if self.open_ended else 'two finite bin edges'}."
                )
            if any(b <= a for a, b in itertools.pairwise(edges)):
                raise SchemaError(
                    f"The bin edges of column {self.name!r} must increase strictly: {list(edges)}."
                )
            object.__setattr__(self, "bins", edges)
        if self.quantiles is not None and not 2 <= self.quantiles <= 100:
            raise SchemaError(
                f"Column {self.name!r} asks for {self.quantiles} quantile bins; use 2 to 100."
            )


def _check_structural_zero(zero: object, names: list[str]) -> None:
    """Refuse a structural zero that is not two or more attributes of distinct columns."""
    if not isinstance(zero, str):
        raise SchemaError(
            f"The structural zero {zero!r} is not text; write it as "
            '"column:value;column:value".'
        )
    try:
        pairs = split_combination(zero)
    except ValueError:
        pairs = []
    columns = [c for c, _ in pairs]
    if len(pairs) < 2 or len(set(columns)) != len(columns):
        raise SchemaError(
            f"The structural zero {zero!r} must name two or more attributes of different "
            'columns, written "column:value;column:value".'
        )
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise SchemaError(
            f"The structural zero {zero!r} names {unknown[0]!r}, which is not a column of the "
            "schema; use the schema's column names."
        )


def _kind(name: str, kind: ColumnKind | str) -> ColumnKind:
    try:
        return ColumnKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in ColumnKind)
        raise SchemaError(
            f"Column {name!r} has the unknown kind {kind!r}; use one of {allowed}."
        ) from None


@dataclass(frozen=True, kw_only=True)
class Schema:
    """The columns to use, in order, and how the table marks missing values."""

    columns: tuple[ColumnSpec, ...]
    """The attribute columns, in the order combinations are written."""
    subject_id: str | None = None
    """A column identifying the person a row belongs to (rows of one subject merge)."""
    null_values: tuple[str, ...] = field(default=("",))
    """Cell values that mean "no value" (the empty cell always does)."""
    structural_zeros: tuple[str, ...] = ()
    """Impossible combinations, each written ``column:value;column:value`` (two or more
    attributes of distinct columns of the schema): never released, never synthesized."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        nulls = tuple(dict.fromkeys(("", *self.null_values)))
        object.__setattr__(self, "null_values", nulls)
        if not self.columns:
            raise SchemaError("The schema names no columns; add at least one column to use.")
        names = [c.name for c in self.columns]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise SchemaError(f"The schema names these columns twice: {', '.join(duplicated)}.")
        if self.subject_id is not None and self.subject_id in names:
            raise SchemaError(
                f"Column {self.subject_id!r} is the subject id and cannot also be an attribute."
            )
        object.__setattr__(self, "structural_zeros", tuple(self.structural_zeros))
        for zero in self.structural_zeros:
            _check_structural_zero(zero, names)

    def structural_zero_attributes(self) -> tuple[tuple[tuple[str, str], ...], ...]:
        """Each structural zero as its (column, value) pairs."""
        return tuple(tuple(split_combination(z)) for z in self.structural_zeros)

    @property
    def data_derived_edges(self) -> tuple[str, ...]:
        """Numeric columns whose bin edges come from the data (quantiles or inferred).

        Their edges are values of the sensitive data: a DP release must not publish them
        unless they are chosen with DP or a person declared them public.
        """
        return tuple(
            c.name
            for c in self.columns
            if c.kind is ColumnKind.NUMERIC and (c.quantiles is not None or c.edges == "inferred")
        )

    @property
    def column_names(self) -> tuple[str, ...]:
        """Names of the attribute columns, in schema order."""
        return tuple(c.name for c in self.columns)

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Every column of the data file the schema reads (attributes and subject id)."""
        extra = (self.subject_id,) if self.subject_id else ()
        return (*self.column_names, *extra)

    def column(self, name: str) -> ColumnSpec:
        """The spec of the column called ``name``."""
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise SchemaError(f"The schema has no column {name!r}.")

    def as_released(self) -> Schema:
        """The schema of released synthetic data: binned columns hold their labels.

        A numeric column's cells there are bin labels such as ``18--29`` (or ``0``), so
        it becomes categorical, with 0 a real value. Released records may leave any
        column empty (a suppressed value, say), so no column is declared never empty.
        """
        columns = tuple(
            ColumnSpec(name=c.name, sensitive_zero=True, allow_identifier=True)
            if c.kind is ColumnKind.NUMERIC
            else c
            if c.can_be_empty
            else replace(c, may_be_empty=True)
            for c in self.columns
        )
        return Schema(
            columns=columns, null_values=self.null_values, structural_zeros=self.structural_zeros
        )

    @classmethod
    def all_categorical(cls, names: tuple[str, ...] | list[str]) -> Schema:
        """Every column categorical, an empty cell or 0 is no attribute."""
        return cls(columns=tuple(ColumnSpec(name=n) for n in names))
