"""Generalisation hierarchies for classic k-anonymization: which values merge into which.

A hierarchy file maps, per column, a value to the group that replaces it; values not
listed stay as they are. TOML::

    [ageBroad]
    "18--20" = "18--29"
    "21--23" = "18--29"
    "24--26" = "18--29"

or the same as JSON: ``{"ageBroad": {"18--20": "18--29", ...}}``. Values are the
attribute values after the schema has been applied (bin labels for numeric columns).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path

from dpshowcase.errors import ParameterError

Hierarchy = Mapping[str, Mapping[str, str]]
"""column → (value → group)."""


def load_hierarchy(path: Path) -> dict[str, dict[str, str]]:
    """Read a hierarchy from a .toml or .json file, naming the first thing that is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParameterError(f"The hierarchy file {path} does not exist.") from None
    except (IsADirectoryError, UnicodeDecodeError):
        raise ParameterError(f"The hierarchy file {path} is not a UTF-8 text file.") from None
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise ParameterError(f"The hierarchy file {path} is not valid {kind} ({exc}).") from None
    return check_hierarchy(raw, source=f"the hierarchy file {path}")


def check_hierarchy(raw: object, *, source: str = "the hierarchy") -> dict[str, dict[str, str]]:
    """A hierarchy as plain dicts, or ParameterError saying what is malformed."""
    if not isinstance(raw, dict):
        raise ParameterError(f"{source} must map column names to tables of value = group.")
    out: dict[str, dict[str, str]] = {}
    for column, mapping in raw.items():
        if not isinstance(mapping, dict):
            raise ParameterError(
                f"In {source}, {column!r} must be a table of value = group, not {mapping!r}."
            )
        for value, group in mapping.items():
            if not isinstance(group, str) or not group:
                raise ParameterError(
                    f"In {source}, {column}:{value} must map to a group name (text), not {group!r}."
                )
        out[str(column)] = {str(v): g for v, g in mapping.items()}
    return out
