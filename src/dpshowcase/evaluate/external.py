"""Evaluating synthetic data made by another tool ("external synthetic data").

A data officer compares tools by scoring their outputs on the same sensitive data.
Another tool's output is a bare table: no protected counts, no parameters, no stated
guarantee. :func:`load_external` turns it into a :class:`~.release_files.PublicRelease`
that says so (mode ``"external"``), so :func:`~.evaluation.evaluate_release` computes
every metric that needs no release parameters: marginals per length, fabricated and
suppressed combinations, propensity, unique-record reproduction, distance to the closest
record and, with a holdout, the membership audit. :func:`nist_k_marginal` adds the NIST
CRC k-marginal score on the values as given (SDNist's convention: with a ``PUMA``
column every marginal is PUMA plus a pair of the other columns; without, all pairs).

What is checked, each with one plain sentence: the synthetic table has no column the
sensitive data lack, shares at least one, and every shared column has values the schema
can read (numbers inside the bin edges of a numeric column, and at least one value in
common with the sensitive data for a categorical column — none in common means a
different coding, not fabrication).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from dpshowcase.data.load import read_table
from dpshowcase.errors import InputError
from dpshowcase.evaluate._space import fixed_bins
from dpshowcase.evaluate.kmarginal import k_marginal_score
from dpshowcase.evaluate.release_files import PublicRelease
from dpshowcase.schema.binning import assign_bins, bin_labels, is_whole
from dpshowcase.schema.model import ColumnKind, Schema

__all__ = [
    "EXTERNAL_GUARANTEE",
    "EXTERNAL_MODE",
    "SDNIST_GROUP_COLUMN",
    "add_external_metrics",
    "external_holdout",
    "external_synthetic_path",
    "load_external",
    "nist_k_marginal",
    "normalise_table",
]

EXTERNAL_MODE = "external"
"""``parameters.mode`` of external synthetic data."""
EXTERNAL_GUARANTEE = (
    "External synthetic data: made by another tool, no release parameters and no "
    "guarantee are known to dpshowcase; only the records themselves are evaluated."
)
SDNIST_GROUP_COLUMN = "PUMA"
"""SDNist scores k-marginals within this column's values when the data have it."""
INDEX_COLUMNS = ("", "Unnamed: 0", "index")
"""Names a row-index column gets when a table is written with its index (pandas)."""


def external_synthetic_path(path: Path) -> Path:
    """The synthetic file to read: ``path`` itself, or the synthetic file in a folder.

    A folder (e.g. another tool's bundle) must hold ``synthetic.parquet`` or
    ``synthetic.csv``.
    """
    path = Path(path)
    if path.is_dir():
        for name in ("synthetic.parquet", "synthetic.csv"):
            if (path / name).is_file():
                return path / name
        raise InputError(
            f"The folder {path} holds no synthetic.csv or synthetic.parquet; name the "
            "synthetic file itself with --synthetic."
        )
    if not path.is_file():
        raise InputError(f"The synthetic data file {path} does not exist; check the path.")
    return path


def _read_synthetic(path: Path) -> pl.DataFrame:
    """Read the synthetic table; a nameless first column (a written pandas index) is named
    ``Unnamed: 0`` so it can be recognised and ignored."""
    if path.suffix.lower() == ".csv":
        with path.open("rb") as handle:
            head = handle.read(1)
        if head == b",":
            try:
                return pl.read_csv(
                    path, infer_schema=False, new_columns=None, has_header=True
                ).rename({"": "Unnamed: 0"}, strict=False)
            except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise InputError(f"{path} could not be read as CSV ({first}).") from None
    return read_table(path)


def normalise_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Text columns; an integer written as a float ("1.0") becomes the integer ("1")."""
    return frame.select(
        pl.col(c).cast(pl.String).str.strip_chars().str.replace(r"^(-?\d+)\.0+$", "${1}")
        for c in frame.columns
    )


def load_external(
    synthetic: Path | pl.DataFrame,
    sensitive: pl.DataFrame,
    schema: Schema | None = None,
    *,
    reporting_length: int = 3,
) -> tuple[PublicRelease, pl.DataFrame, list[str]]:
    """External synthetic records as a release to evaluate, the sensitive table to
    compare them with (restricted to the shared columns), and notes for the report.

    ``schema`` describes the sensitive data (default: every column categorical, as a
    release without a schema). Numeric columns are binned with the sensitive data's
    edges on both sides; categorical values are compared as text after one
    normalisation ("1.0" → "1", as in the k-marginal score).
    """
    notes: list[str] = []
    source = "external synthetic data"
    if isinstance(synthetic, Path):
        source = synthetic.name
        frame = _read_synthetic(external_synthetic_path(synthetic))
    else:
        frame = synthetic
    index = [c for c in frame.columns if c in INDEX_COLUMNS and c not in sensitive.columns]
    if index:
        frame = frame.drop(index)
        notes.append(f"The synthetic column {index[0]!r} looks like a row index and was ignored.")
    unknown = [c for c in frame.columns if c not in sensitive.columns]
    if unknown:
        raise InputError(
            f"The synthetic data have a column {unknown[0]!r} that the sensitive data lack; "
            "rename or drop it so both files describe the same columns."
        )
    if frame.height == 0:
        raise InputError("The synthetic data have no rows; there is nothing to evaluate.")
    if schema is None:
        schema = Schema.all_categorical(sensitive.columns)
    shared = [s.name for s in schema.columns if s.name in frame.columns]
    if not shared:
        raise InputError(
            "The synthetic data share no column with the schema; check that both describe "
            "the same table."
        )
    dropped = [s.name for s in schema.columns if s.name not in frame.columns]
    if dropped:
        notes.append(
            f"The synthetic data lack {len(dropped)} column(s) of the schema "
            f"({', '.join(dropped[:6])}{' …' if len(dropped) > 6 else ''}); the evaluation "
            "covers the shared columns only."
        )
    schema = Schema(
        columns=tuple(s for s in schema.columns if s.name in shared),
        subject_id=None,
        null_values=schema.null_values,
    )
    sensitive = normalise_table(sensitive.select(shared))
    frame = normalise_table(frame.select(shared))
    schema = fixed_bins(schema, sensitive)
    frame = _bin_numeric(frame, sensitive, schema)
    _check_values(frame, sensitive, schema)
    release = PublicRelease(
        path=None,
        schema=schema,
        parameters={
            "mode": EXTERNAL_MODE,
            "guarantee": EXTERNAL_GUARANTEE,
            "reporting_length": min(reporting_length, len(shared)),
        },
        protected=None,
        synthetic=frame.select(pl.all().fill_null("")),
        source=source,
    )
    return release, sensitive, notes


def _numbers(series: pl.Series, nulls: list[str]) -> np.ndarray:
    text = pl.select(pl.when(series.is_in(nulls)).then(None).otherwise(series)).to_series()
    return text.cast(pl.Float64, strict=False).fill_null(float("nan")).to_numpy()


def _bin_numeric(frame: pl.DataFrame, sensitive: pl.DataFrame, schema: Schema) -> pl.DataFrame:
    """Numeric columns of the synthetic table as the sensitive data's bin labels."""
    nulls = list(schema.null_values)
    columns = []
    for spec in schema.columns:
        if spec.kind is not ColumnKind.NUMERIC:
            continue
        assert spec.bins is not None  # fixed_bins fixed them
        raw = frame.get_column(spec.name)
        present = raw.is_not_null() & ~raw.is_in(nulls) & (raw != "")
        values = _numbers(raw, nulls)
        bad = present.to_numpy() & np.isnan(values)
        if bad.any():
            example = raw.filter(pl.Series(bad))[0]
            raise InputError(
                f"The synthetic column {spec.name!r} is numeric in the schema but holds "
                f"{example!r}; give numbers (or empty cells) in that column."
            )
        labels = bin_labels(
            spec.bins, whole_numbers=is_whole(_numbers(sensitive.get_column(spec.name), nulls))
        )
        codes = assign_bins(values, spec.bins, f"{spec.name} (synthetic)")
        label_array = np.array([*labels, ""], dtype=object)
        columns.append(pl.Series(spec.name, label_array[codes].tolist(), dtype=pl.String))
    return frame.with_columns(columns) if columns else frame


def _check_values(frame: pl.DataFrame, sensitive: pl.DataFrame, schema: Schema) -> None:
    """A categorical column with no value in common with the sensitive data is an error."""
    nulls = {"", *schema.null_values}
    for spec in schema.columns:
        if spec.kind is not ColumnKind.CATEGORICAL:
            continue
        ours = set(frame.get_column(spec.name).drop_nulls().to_list()) - nulls
        theirs = set(sensitive.get_column(spec.name).drop_nulls().to_list()) - nulls
        if ours and theirs and not ours & theirs:
            example = sorted(ours)[0]
            raise InputError(
                f"The synthetic column {spec.name!r} holds values such as {example!r} but "
                "none of the sensitive data's values; recode it the way the sensitive data "
                "are coded."
            )


def nist_k_marginal(
    sensitive: pl.DataFrame, synthetic: pl.DataFrame, columns: list[str]
) -> dict[str, Any]:
    """The NIST CRC k-marginal score (SDNist v2.3), on the values as given.

    With a ``PUMA`` column: PUMA × every pair of the other columns (k = 3) and a score
    per PUMA; without: every pair of columns (k = 2), as SDNist does for feature sets
    without PUMA. SDNist's own binning of numeric columns is not applied here.
    """
    group = SDNIST_GROUP_COLUMN if SDNIST_GROUP_COLUMN in columns else None
    features = [c for c in columns if c != group]
    k = 3 if group is not None else 2
    if len(features) < k - (1 if group else 0):
        return {"score": None, "why": "too few columns for the k-marginal score"}
    result = k_marginal_score(
        sensitive.select(columns).fill_null(""),
        synthetic.select(columns).fill_null(""),
        k=k,
        columns=features,
        group_column=group,
    )
    return {
        "score": result.overall_sdnist,
        "score_unrounded": result.overall,
        "k": k,
        "group_column": group,
        "per_group": result.per_group_sdnist,
        "marginals": result.n_marginals,
        "definition": "SDNist v2.3 k-marginal: (2 − mean Σ|t − d|) × 500, truncated",
    }


def external_holdout(holdout: pl.DataFrame, schema: Schema) -> pl.DataFrame:
    """A holdout table restricted to the evaluated columns, normalised as the others."""
    missing = [c for c in schema.column_names if c not in holdout.columns]
    if missing:
        raise InputError(
            f"The holdout data lack the column {missing[0]!r}; give records with the same "
            "columns as the sensitive data."
        )
    return normalise_table(holdout.select(list(schema.column_names)))


def add_external_metrics(
    metrics: dict[str, Any], release: PublicRelease, sensitive: pl.DataFrame, notes: list[str]
) -> None:
    """Mark ``metrics`` as those of external synthetic data and add the NIST k-marginal."""
    assert release.synthetic is not None
    metrics["notes"] = [*notes, *metrics.get("notes", [])]
    metrics["release"]["kind"] = "external synthetic data"
    metrics["fidelity"] = metrics.get("fidelity") or {}
    metrics["fidelity"]["nist_k_marginal"] = nist_k_marginal(
        sensitive, release.synthetic, list(release.schema.column_names)
    )
