"""The Evaluate step's charts: each release's report figures, and releases compared.

The figures are those of the release's report.html, built by the same code
(:func:`dpshowcase.evaluate.report.report_figures`) from the release's metrics.json,
and sent as Plotly JSON with the config the page draws them with.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from dpshowcase.evaluate.report import METRICS_JSON, comparison_figures, report_figures
from dpshowcase.web.context import AppContext, context
from dpshowcase.web.datasets import get_dataset
from dpshowcase.web.plotly_assets import PLOTLY_CONFIG
from dpshowcase.web.runs import finished_run

__all__ = ["router"]

router = APIRouter(prefix="/api")


def _metrics(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    return dict(json.loads(path.read_text(encoding="utf-8")))


@router.get("/runs/{run_id}/figures")
async def run_figures(request: Request, run_id: str) -> dict[str, Any]:
    """The figures of the run's evaluation report, as Plotly JSON."""
    ctx = context(request)
    finished_run(ctx, run_id)
    metrics = await run_in_threadpool(_metrics, ctx.store.bundle_dir(run_id) / METRICS_JSON)
    if metrics is None:
        raise HTTPException(404, "This release has no evaluation report.")
    figures = await run_in_threadpool(report_figures, metrics)
    return {"run_id": run_id, "figures": figures, "config": PLOTLY_CONFIG}


@router.get("/datasets/{dataset_id}/figures")
async def dataset_figures(request: Request, dataset_id: str) -> dict[str, Any]:
    """Figures comparing the dataset's finished runs (newest first), as Plotly JSON.

    A run whose release has no evaluation has no line or bars, but keeps its colour.
    """
    ctx = context(request)
    get_dataset(ctx, dataset_id)
    releases = await run_in_threadpool(_releases, ctx, dataset_id)
    figures = await run_in_threadpool(comparison_figures, [(r[1], r[2]) for r in releases])
    return {"run_ids": [r[0] for r in releases], "figures": figures, "config": PLOTLY_CONFIG}


def _releases(ctx: AppContext, dataset_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(run id, label, metrics or {}) of each finished run."""
    return [
        (
            run.id,
            str(run.params.get("label") or run.id[:8]),
            _metrics(ctx.store.bundle_dir(run.id) / METRICS_JSON) or {},
        )
        for run in ctx.store.runs(dataset_id)
        if run.status == "done"
    ]
