"""Reading and writing a schema as a TOML file a person can edit.

Example::

    null_values = ["", "N"]
    subject_id = "caseId"          # optional
    structural_zeros = ["ageBroad:0--8;maritalStatus:Married"]   # optional: impossible

    [[columns]]
    name = "ageBroad"              # kind defaults to "categorical"

    [[columns]]
    name = "AGEP"
    kind = "numeric"
    bins = [0, 18, 30, 65, 100]    # or: quantiles = 5
    edges = "public"               # chosen without the data; "inferred": from schema infer

    [[columns]]
    name = "PINCP"
    kind = "numeric"
    bins = [10000, 40000, 100000]  # labels < 10000, 10000--39999, 40000--99999, ≥ 100000
    open_ended = true
    edges = "inferred"             # a DP release refuses these until marked "public"

    [[columns]]
    name = "IP_Gender"
    kind = "multi_value"
    delimiter = ";"

    [[columns]]
    name = "isAbduction"
    sensitive_zero = true          # 0 is an answer, not absence

    [[columns]]
    name = "SEX"
    categories = ["1", "2"]        # public domain (e.g. a data dictionary): no threshold
    may_be_empty = false           # the default with categories: every record has one
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from dpshowcase._io.atomic import atomic_write_text
from dpshowcase.errors import SchemaError
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema

_COLUMN_KEYS = {
    "name",
    "kind",
    "sensitive_zero",
    "bins",
    "quantiles",
    "delimiter",
    "allow_identifier",
    "open_ended",
    "edges",
    "categories",
    "may_be_empty",
}
_TOP_KEYS = {"columns", "subject_id", "null_values", "structural_zeros"}


def schema_to_dict(schema: Schema) -> dict[str, Any]:
    """The schema as plain data (for TOML and for a release's manifest)."""
    out: dict[str, Any] = {"null_values": list(schema.null_values)}
    if schema.subject_id:
        out["subject_id"] = schema.subject_id
    if schema.structural_zeros:
        out["structural_zeros"] = list(schema.structural_zeros)
    columns = []
    for spec in schema.columns:
        col: dict[str, Any] = {"name": spec.name, "kind": spec.kind.value}
        if spec.sensitive_zero:
            col["sensitive_zero"] = True
        if spec.bins is not None:
            col["bins"] = [int(e) if float(e).is_integer() else e for e in spec.bins]
        if spec.open_ended:
            col["open_ended"] = True
        if spec.edges is not None:
            col["edges"] = spec.edges
        if spec.quantiles is not None:
            col["quantiles"] = spec.quantiles
        if spec.kind is ColumnKind.MULTI_VALUE:
            col["delimiter"] = spec.delimiter
        if spec.allow_identifier:
            col["allow_identifier"] = True
        if spec.categories is not None:
            col["categories"] = list(spec.categories)
        if spec.may_be_empty is not None:
            col["may_be_empty"] = spec.may_be_empty
        columns.append(col)
    out["columns"] = columns
    return out


def _categories(raw: dict[str, Any]) -> tuple[str, ...] | None:
    """The declared categories of a column, as text (TOML may hold them as numbers)."""
    if "categories" not in raw:
        return None
    values = raw["categories"]
    if not isinstance(values, list) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in values
    ):
        raise SchemaError(
            f"The categories of column {raw['name']!r} must be a list of values, such as "
            '["1", "2", "N"].'
        )
    return tuple(str(v) for v in values)


def schema_from_dict(data: dict[str, Any], *, source: str = "the schema") -> Schema:
    """Build a schema from plain data, naming the first thing that is wrong."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise SchemaError(
            f"{source} has unknown keys {sorted(unknown)}; allowed are {sorted(_TOP_KEYS)}."
        )
    raw_columns = data.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise SchemaError(f"{source} needs a list of [[columns]], each with a name.")
    specs = []
    for i, raw in enumerate(raw_columns, start=1):
        if not isinstance(raw, dict) or "name" not in raw:
            raise SchemaError(f"Column {i} in {source} has no name.")
        bad = set(raw) - _COLUMN_KEYS
        if bad:
            raise SchemaError(
                f"Column {raw['name']!r} in {source} has unknown keys {sorted(bad)}; "
                f"allowed are {sorted(_COLUMN_KEYS)}."
            )
        for flag in ("sensitive_zero", "allow_identifier", "open_ended", "may_be_empty"):
            if not isinstance(raw.get(flag, False), bool):
                raise SchemaError(
                    f"Column {raw['name']!r} in {source} has {flag} = {raw[flag]!r}; "
                    "write true or false (without quotes)."
                )
        try:
            specs.append(
                ColumnSpec(
                    name=str(raw["name"]),
                    kind=raw.get("kind", "categorical"),
                    sensitive_zero=bool(raw.get("sensitive_zero", False)),
                    bins=tuple(raw["bins"]) if "bins" in raw else None,
                    quantiles=int(raw["quantiles"]) if "quantiles" in raw else None,
                    delimiter=str(raw.get("delimiter", ";")),
                    allow_identifier=bool(raw.get("allow_identifier", False)),
                    open_ended=bool(raw.get("open_ended", False)),
                    edges=str(raw["edges"]) if "edges" in raw else None,
                    categories=_categories(raw),
                    may_be_empty=raw.get("may_be_empty"),
                )
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, SchemaError):
                raise
            raise SchemaError(
                f"Column {raw['name']!r} in {source} has a bad value: {exc}."
            ) from None
    nulls = data.get("null_values", [""])
    if not isinstance(nulls, list) or not all(isinstance(v, str) for v in nulls):
        raise SchemaError(f"null_values in {source} must be a list of strings.")
    subject = data.get("subject_id")
    if subject is not None and not isinstance(subject, str):
        raise SchemaError(f"subject_id in {source} must be a column name.")
    zeros = data.get("structural_zeros", [])
    if not isinstance(zeros, list) or not all(isinstance(z, str) for z in zeros):
        raise SchemaError(
            f"structural_zeros in {source} must be a list of strings such as "
            '"ageBroad:0--8;maritalStatus:Married".'
        )
    return Schema(
        columns=tuple(specs),
        subject_id=subject or None,
        null_values=tuple(nulls),
        structural_zeros=tuple(zeros),
    )


def load_schema(path: Path) -> Schema:
    """Read a schema TOML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError(f"The schema file {path} does not exist.") from None
    except UnicodeDecodeError:
        raise SchemaError(f"The schema file {path} is not UTF-8 text.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(f"The schema file {path} is not valid TOML ({exc}).") from None
    return schema_from_dict(data, source=f"the schema file {path}")


def dump_schema(schema: Schema) -> str:
    """The schema as TOML text, one ``[[columns]]`` table per column (easy to edit)."""
    data = schema_to_dict(schema)
    columns = data.pop("columns")
    parts = [tomli_w.dumps(data)]
    parts += [f"[[columns]]\n{tomli_w.dumps(column)}" for column in columns]
    return "\n".join(parts)


def save_schema(schema: Schema, path: Path) -> None:
    """Write the schema as TOML, atomically."""
    atomic_write_text(path, dump_schema(schema))
