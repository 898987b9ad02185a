"""The public evaluation every release bundle carries: report.html and metrics.json.

Called by :func:`~dpshowcase.release.bundle.write_release` inside the bundle's temporary
folder, with the very tables the bundle publishes (protected counts, synthetic records,
parameters, schema). It reads no sensitive data, so its output is as public as the
release (post-processing of the protected aggregates).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from dpshowcase.evaluate.evaluation import evaluate_release
from dpshowcase.evaluate.release_files import PublicRelease
from dpshowcase.evaluate.report import METRICS_JSON, REPORT_HTML, metrics_json, render_report
from dpshowcase.schema.model import Schema

__all__ = ["public_metrics", "write_public_report"]


def public_metrics(
    *,
    schema: Schema,
    parameters: dict[str, Any],
    protected: pl.DataFrame | None,
    synthetic: pl.DataFrame | None,
    source: str = "",
) -> dict[str, Any]:
    """Every metric computable from the release alone."""
    release = PublicRelease(
        path=None,
        schema=schema,
        parameters=parameters,
        protected=protected,
        synthetic=synthetic,
        source=source,
    )
    return evaluate_release(release, timed=False)


def write_public_report(
    folder: Path,
    *,
    schema: Schema,
    parameters: dict[str, Any],
    protected: pl.DataFrame | None,
    synthetic: pl.DataFrame | None,
    source: str = "",
) -> dict[str, Any]:
    """Write ``folder/report.html`` and ``folder/metrics.json``; return the metrics.

    ``folder`` is the bundle's temporary folder: the bundle as a whole is renamed into
    place atomically, so the files are written directly.
    """
    metrics = public_metrics(
        schema=schema,
        parameters=parameters,
        protected=protected,
        synthetic=synthetic,
        source=source,
    )
    folder = Path(folder)
    (folder / METRICS_JSON).write_text(metrics_json(metrics), encoding="utf-8")
    (folder / REPORT_HTML).write_text(render_report(metrics), encoding="utf-8")
    return metrics
