"""Writing a release bundle: one folder a data officer can check and publish as it is.

The bundle holds only public things — protected aggregates, synthetic records derived
from them, the parameters and the datasheet — and is written atomically: a reader sees
no folder or the complete one, never a half-written release.

    output/
    ├── synthetic.csv       synthetic records, the input's attribute columns in its order
    ├── synthetic.parquet   the same table
    ├── aggregates.csv      protected counts: combination,length,count
    ├── noisy_aggregates.csv  (DP) the raw noisy measurements aggregates.csv was fitted to
    ├── parameters.json     the guarantee first, then every parameter of the protection
    ├── README.md           the datasheet (see :mod:`.datasheet`)
    ├── report.html         the public evaluation report (see dpshowcase.evaluate.report)
    ├── metrics.json        its metrics, for scripts
    └── manifest.json       sha256 and size of every other file, tool version, schema
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from dpshowcase._io.atomic import atomic_directory
from dpshowcase._io.csv_guard import write_csv
from dpshowcase._io.timestamps import created_utc
from dpshowcase._version import __version__
from dpshowcase.aggregate.protected import ProtectedAggregates
from dpshowcase.errors import InputError, InternalError
from dpshowcase.evaluate.bundle_report import write_public_report
from dpshowcase.release.datasheet import (
    NOT_FOR_RELEASE_WARNING,
    release_warnings,
    render_datasheet,
)
from dpshowcase.schema.model import ColumnKind, Schema
from dpshowcase.schema.toml_io import schema_to_dict

__all__ = [
    "BUNDLE_FILES",
    "REPORT_FILES",
    "ReleaseSummary",
    "check_output",
    "enclosing_bundle",
    "is_bundle",
    "release_columns",
    "release_parameters",
    "release_warnings",
    "replaceable_bundle",
    "write_release",
]

SYNTHETIC_CSV = "synthetic.csv"
SYNTHETIC_PARQUET = "synthetic.parquet"
AGGREGATES_CSV = "aggregates.csv"
NOISY_AGGREGATES_CSV = "noisy_aggregates.csv"
PARAMETERS_JSON = "parameters.json"
README_MD = "README.md"
MANIFEST_JSON = "manifest.json"
REPORT_HTML = "report.html"
"""The public evaluation report (see :mod:`dpshowcase.evaluate.report`)."""
METRICS_JSON = "metrics.json"
"""Its metrics, for scripts."""
BUNDLE_FILES = (
    SYNTHETIC_CSV,
    SYNTHETIC_PARQUET,
    AGGREGATES_CSV,
    PARAMETERS_JSON,
    README_MD,
    MANIFEST_JSON,
)
"""The release's data files; the manifest describes all the others."""
REPORT_FILES = (REPORT_HTML, METRICS_JSON)
"""The public evaluation every bundle also holds (described by the manifest too)."""

SPREADSHEET_GUARD = (
    "In every CSV file, a text cell or column name that a spreadsheet would run as a "
    "formula starts with one extra ' (the Parquet file holds the values as they are)."
)
"""What the manifest says about the CSV guard (see :mod:`dpshowcase._io.csv_guard`)."""

SYNTHESIZER_DELIMITER = ";"
"""The separator the synthesizer joins the values of a multi-value cell with."""


@dataclass(frozen=True)
class ReleaseSummary:
    """What :func:`write_release` wrote."""

    path: Path
    """The bundle folder."""
    files: tuple[str, ...]
    """The names of the files in it."""
    synthetic_rows: int
    """Rows of synthetic.csv."""
    combinations: int
    """Rows of aggregates.csv."""
    record_count: int
    """The protected (or declared public) record count."""
    guarantee: str
    """The guarantee in one sentence."""
    private: bool
    """False when the noise was seeded: the bundle is stamped not for release."""
    warnings: tuple[str, ...] = ()
    """Sentences a data officer should read before publishing (also in the datasheet)."""


def check_output(output: Path, *, overwrite: bool = False) -> None:
    """Fail early, before any work, if ``output`` cannot become a bundle folder.

    With ``overwrite`` an existing folder is replaced only if it is a release bundle
    (see :func:`replaceable_bundle`).
    """
    output = Path(output)
    parent = output.resolve().parent
    if not parent.is_dir():
        raise InputError(f"The folder {parent} does not exist; create it or choose another output.")
    if output.exists() and not output.is_dir():
        raise InputError(f"The output {output} is a file; name a folder for the release bundle.")
    if output.exists() and any(output.iterdir()):
        if not overwrite:
            raise InputError(
                f"The output {output} already exists; choose a new folder or pass --overwrite."
            )
        refusal = replaceable_bundle(output)
        if refusal is not None:
            raise InputError(refusal)


def is_bundle(folder: Path) -> bool:
    """``folder`` holds a manifest.json written by dpshowcase."""
    try:
        manifest = json.loads((Path(folder) / MANIFEST_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("tool") == "dpshowcase"


def enclosing_bundle(path: Path) -> Path | None:
    """The release bundle folder that is ``path`` or holds it, or None."""
    for folder in (Path(path).resolve(), *Path(path).resolve().parents):
        if is_bundle(folder):
            return folder
    return None


def replaceable_bundle(folder: Path) -> str | None:
    """None if ``--overwrite`` may replace ``folder``; else the sentence refusing it.

    Only a release bundle (a dpshowcase manifest.json) holding nothing but bundle files
    may be replaced: --overwrite must never delete an input's folder, the current
    folder or someone's thesis.
    """
    folder = Path(folder)
    if not is_bundle(folder):
        return (
            f"--overwrite replaces only a release bundle written by dpshowcase, and {folder} "
            f"holds no dpshowcase {MANIFEST_JSON}; it was left as it is. Choose a new folder."
        )
    allowed = {*BUNDLE_FILES, NOISY_AGGREGATES_CSV, *REPORT_FILES}
    others = sorted(p.name for p in folder.iterdir() if p.name not in allowed)
    if others:
        shown = ", ".join(others[:3]) + (" …" if len(others) > 3 else "")
        return (
            f"--overwrite would delete {shown} in {folder}, which no release bundle holds; "
            "move them away or choose a new folder."
        )
    return None


def release_columns(schema: Schema, input_columns: Sequence[str]) -> list[str]:
    """The schema's attribute columns in the order the input file has them.

    Columns of the input that the schema does not use (and the subject id) are not
    released; a schema column missing from ``input_columns`` goes last.
    """
    used = set(schema.column_names)
    ordered = [c for c in dict.fromkeys(input_columns) if c in used]
    return ordered + [c for c in schema.column_names if c not in ordered]


def release_parameters(aggregates: ProtectedAggregates) -> dict[str, Any]:
    """The content of parameters.json: the guarantee first, then every parameter."""
    rest = dict(aggregates.parameters)
    rest.pop("guarantee", None)
    rest.pop("protected_record_count", None)
    out: dict[str, Any] = {
        "guarantee": aggregates.guarantee,
        "mode": aggregates.mode,
        "not_for_release": not aggregates.private,
    }
    if not aggregates.private:
        out["warning"] = NOT_FOR_RELEASE_WARNING
    out["privacy_unit"] = rest.pop("privacy_unit", "record")
    out["protected_record_count"] = int(aggregates.record_count)
    out["record_count_public"] = bool(rest.pop("record_count_public", False))
    out.update(rest)
    return out


def write_release(
    output: Path,
    *,
    aggregates: ProtectedAggregates,
    synthetic: pl.DataFrame,
    schema: Schema,
    input_columns: Sequence[str],
    source_name: str,
    overwrite: bool = False,
    measurements: ProtectedAggregates | None = None,
    datasheet_extra: str | None = None,
    manifest_extra: dict[str, Any] | None = None,
    before_publish: Callable[[Path], None] | None = None,
) -> ReleaseSummary:
    """Write the release bundle for ``aggregates`` and the records synthesized from them.

    ``synthetic`` must come from the aggregates (e.g.
    :class:`~dpshowcase.synthesize.aggregate_seeded.AggregateSeededSynthesizer`): string
    columns named as attribute columns, multi-value cells joined by ``;``, absence as
    ``""``. ``measurements``, when given, are the raw protected counts that
    ``aggregates`` were fitted to; they go to noisy_aggregates.csv. Nothing here reads
    sensitive data. Raises InputError when ``output`` exists
    (unless ``overwrite``) or its parent folder does not.

    ``datasheet_extra`` is a Markdown section appended to the datasheet and
    ``manifest_extra`` a block added to the manifest (the lineage's, see
    :mod:`dpshowcase.ledger`); ``before_publish`` is called with the complete temporary
    folder just before it is renamed into place (the ledger commits there), and an
    error it raises leaves no bundle.
    """
    if not isinstance(aggregates, ProtectedAggregates):
        raise InternalError(
            f"write_release takes ProtectedAggregates, not {type(aggregates).__name__}."
        )
    output = Path(output)
    check_output(output, overwrite=overwrite)
    columns = release_columns(schema, input_columns)
    table = _synthetic_table(synthetic, columns, schema)
    counts = aggregates.counts.to_frame()
    parameters = release_parameters(aggregates)
    readme = render_datasheet(
        aggregates=aggregates,
        schema=schema,
        columns=columns,
        source_name=source_name,
        measurements=measurements is not None,
        synthetic_rows=table.height,
    )
    if datasheet_extra:
        readme = readme.rstrip("\n") + "\n\n" + datasheet_extra.strip("\n") + "\n"

    with atomic_directory(output, overwrite=overwrite, replaceable=replaceable_bundle) as folder:
        # An absent value is a bare empty field (",,"), as in the published CTDC files.
        # Every CSV is guarded against spreadsheet formulas; the Parquet file is not.
        write_csv(table.select(pl.all().replace("", None)), folder / SYNTHETIC_CSV)
        table.write_parquet(folder / SYNTHETIC_PARQUET)
        write_csv(counts, folder / AGGREGATES_CSV)
        written = list(BUNDLE_FILES)
        if measurements is not None:
            write_csv(measurements.counts.to_frame(), folder / NOISY_AGGREGATES_CSV)
            written.insert(written.index(AGGREGATES_CSV) + 1, NOISY_AGGREGATES_CSV)
        (folder / PARAMETERS_JSON).write_text(_json(parameters), encoding="utf-8")
        (folder / README_MD).write_text(readme, encoding="utf-8")
        # the public evaluation: computed from the files above only, never sensitive data

        write_public_report(
            folder,
            schema=schema,
            parameters=parameters,
            protected=counts,
            synthetic=table,
            source=source_name,
        )
        written[written.index(MANIFEST_JSON) : written.index(MANIFEST_JSON)] = REPORT_FILES
        manifest = {
            "tool": "dpshowcase",
            "version": __version__,
            "created": created_utc(),
            "source": source_name,
            "mode": aggregates.mode,
            "not_for_release": not aggregates.private,
            "guarantee": aggregates.guarantee,
            "rows": {
                SYNTHETIC_CSV: table.height,
                AGGREGATES_CSV: counts.height,
                "protected_record_count": int(aggregates.record_count),
            },
            "columns": columns,
            "schema": schema_to_dict(schema),
            "spreadsheet_guard": SPREADSHEET_GUARD,
            "files": {name: _describe(folder / name) for name in written if name != MANIFEST_JSON},
        }
        if manifest_extra:
            manifest["lineage"] = manifest_extra
        (folder / MANIFEST_JSON).write_text(_json(manifest), encoding="utf-8")
        if before_publish is not None:
            before_publish(folder)
    return ReleaseSummary(
        path=output,
        files=tuple(written),
        synthetic_rows=table.height,
        combinations=counts.height,
        record_count=int(aggregates.record_count),
        guarantee=aggregates.guarantee,
        private=aggregates.private,
        warnings=release_warnings(aggregates),
    )


def _synthetic_table(synthetic: pl.DataFrame, columns: list[str], schema: Schema) -> pl.DataFrame:
    """The synthetic records as released: ``columns`` in order, strings, absence ``""``."""
    if not isinstance(synthetic, pl.DataFrame):
        raise InternalError(
            f"synthetic must be a polars DataFrame, not {type(synthetic).__name__}."
        )
    extra = [c for c in synthetic.columns if c not in columns]
    if extra:
        raise InternalError(
            f"The synthetic records have columns the schema does not release: {extra[:5]}."
        )
    height = synthetic.height
    series = []
    for name in columns:
        if name not in synthetic.columns:  # no value of the column survived protection
            series.append(pl.Series(name, [""] * height, dtype=pl.String))
            continue
        column = synthetic.get_column(name).cast(pl.String).fill_null("")
        spec = schema.column(name)
        if spec.kind is ColumnKind.MULTI_VALUE and spec.delimiter != SYNTHESIZER_DELIMITER:
            # Back to the input's own delimiter. Assumes no value holds a ';' itself.
            column = column.str.split(SYNTHESIZER_DELIMITER).list.join(spec.delimiter)
        series.append(column.alias(name))
    table = pl.DataFrame(series, schema=dict.fromkeys(columns, pl.String))
    if not columns:
        return table
    # a row of empty cells describes nobody: never written, whichever synthesizer made it
    return table.filter(pl.any_horizontal(pl.all() != ""))


def _describe(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}


def _json(data: dict[str, Any]) -> str:
    return json.dumps(_plain(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _plain(value: Any) -> Any:
    """JSON-ready copy: numpy scalars become numbers, tuples lists, paths strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        if not math.isfinite(number):
            raise InternalError(f"A release parameter is not a finite number: {number!r}.")
        return number
    if isinstance(value, Path):
        return str(value)
    return value
