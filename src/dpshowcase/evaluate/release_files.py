"""Reading a release bundle folder back for evaluation and comparability.

Only public files are read: ``parameters.json`` (guarantee and parameters),
``manifest.json`` (schema, columns), ``aggregates.csv`` (protected counts) and the
synthetic records (``synthetic.parquet``, else ``synthetic.csv``). A bundle may lack
the aggregates or the synthetic records; what is missing is None.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from dpshowcase._io.csv_guard import unguard_frame
from dpshowcase.aggregate.io import read_counts
from dpshowcase.errors import InputError
from dpshowcase.schema.model import Schema
from dpshowcase.schema.toml_io import schema_from_dict

__all__ = ["PublicRelease", "load_release"]


@dataclass(frozen=True, eq=False)
class PublicRelease:
    """The public parts of a release, as an evaluation needs them."""

    path: Path | None
    schema: Schema
    parameters: dict[str, Any]
    """parameters.json: guarantee, mode, not_for_release, protected_record_count, …"""
    protected: pl.DataFrame | None
    """``combination, length, count``: the protected counts, or None."""
    synthetic: pl.DataFrame | None
    """Synthetic records, string columns, absence as ``""``; or None."""
    source: str = ""
    """The name of the sensitive file the release was made from."""

    @property
    def reporting_length(self) -> int:
        """R, from the parameters (or the longest protected combination)."""
        value = self.parameters.get("reporting_length")
        if isinstance(value, int) and value > 0:
            return value
        if self.protected is not None and self.protected.height:
            return int(self.protected.get_column("length").max())  # type: ignore[arg-type]
        return 3

    @property
    def record_count(self) -> int | None:
        """The protected (or declared public) record count."""
        value = self.parameters.get("protected_record_count")
        return int(value) if isinstance(value, int | float) else None

    @property
    def epsilon(self) -> float | None:
        """ε of a DP release, None otherwise."""
        value = self.parameters.get("epsilon")
        return float(value) if self.parameters.get("mode") == "dp" and value is not None else None

    @property
    def delta(self) -> float:
        """δ of a DP release (0 otherwise)."""
        value = self.parameters.get("delta")
        return float(value) if isinstance(value, int | float) else 0.0


def load_release(path: Path | str) -> PublicRelease:
    """Read the bundle folder at ``path``; one-sentence InputError when it is not one."""
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(f"The release folder {folder} does not exist or is not a folder.")
    parameters = _json(folder / "parameters.json")
    manifest = _json(folder / "manifest.json")
    if "schema" not in manifest:
        raise InputError(f"{folder / 'manifest.json'} has no schema; is {folder} a release?")
    schema = schema_from_dict(manifest["schema"], source=f"the schema in {folder}/manifest.json")
    aggregates = folder / "aggregates.csv"
    protected = read_counts(aggregates) if aggregates.is_file() else None
    synthetic = None
    if (folder / "synthetic.parquet").is_file():
        synthetic = pl.read_parquet(folder / "synthetic.parquet")
    elif (folder / "synthetic.csv").is_file():
        synthetic = unguard_frame(pl.read_csv(folder / "synthetic.csv", infer_schema=False))
    if synthetic is not None:
        synthetic = synthetic.select(pl.all().cast(pl.String).fill_null(""))
    if protected is None and synthetic is None:
        raise InputError(
            f"{folder} holds neither aggregates.csv nor synthetic records; nothing to evaluate."
        )
    return PublicRelease(
        path=folder,
        schema=schema,
        parameters=parameters,
        protected=protected,
        synthetic=synthetic,
        source=str(manifest.get("source", "")),
    )


def _json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f"{path} is missing; is {path.parent} a release folder?")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} does not hold a JSON object.")
    return data
