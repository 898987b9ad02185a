"""Server-rendered pages: each step is one HTML page plus a small script of its own."""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from dpshowcase._version import __version__
from dpshowcase.kanon.registry import MODES as K_MODES
from dpshowcase.web.context import context
from dpshowcase.web.plotly_assets import page_assets
from dpshowcase.web.runs import ADVANCED_KEYS

__all__ = ["render", "router", "world_map_svg"]

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter()

STEPS = (
    ("data", "1 · Data"),
    ("protect", "2 · Protect & synthesize"),
    ("evaluate", "3 · Evaluate"),
    ("navigate", "4 · Navigate"),
    ("download", "5 · Download"),
)


def _page(request: Request, template: str, step: str | None, **values: Any) -> HTMLResponse:
    state = request.scope.get("state", {})
    if "nav_run" not in values and values.get("dataset") is not None:
        finished = [
            r for r in context(request).store.runs(values["dataset"].id) if r.status == "done"
        ]
        values["nav_run"] = finished[0] if finished else None
    return templates.TemplateResponse(
        request,
        template,
        {
            "csrf_token": state.get("csrf_token", ""),
            "steps": STEPS,
            "step": step,
            "version": __version__,
            **values,
        },
    )


def render(request: Request, template: str, **values: Any) -> HTMLResponse:
    """A page outside the five steps (e.g. the privacy ledger)."""
    return _page(request, template, None, **values)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """Upload data; list datasets and releases."""
    ctx = context(request)
    return _page(
        request,
        "home.html",
        None,
        datasets=ctx.store.datasets(),
        runs=ctx.store.runs(),
        max_upload_mib=ctx.settings.max_upload_bytes // (1024 * 1024),
    )


def _dataset(request: Request, dataset_id: str) -> Any:
    dataset = context(request).store.dataset(dataset_id)
    if dataset is None:
        raise HTTPException(404, "No such dataset (it may have been deleted).")
    return dataset


@router.get("/datasets/{dataset_id}", response_class=HTMLResponse)
def data_step(request: Request, dataset_id: str) -> HTMLResponse:
    """Step 1: preview, schema, value counts, risk."""
    dataset = _dataset(request, dataset_id)
    return _page(request, "data.html", "data", dataset=dataset)


@router.get("/datasets/{dataset_id}/protect", response_class=HTMLResponse)
def protect_step(request: Request, dataset_id: str) -> HTMLResponse:
    """Step 2: parameters, background runs with progress."""
    ctx = context(request)
    dataset = _dataset(request, dataset_id)
    return _page(
        request,
        "protect.html",
        "protect",
        dataset=dataset,
        advanced_keys=ADVANCED_KEYS,
        k_modes=K_MODES,
        max_r=ctx.settings.max_reporting_length,
        n_columns=len(dataset.schema.get("columns", [])),
    )


@router.get("/datasets/{dataset_id}/evaluate", response_class=HTMLResponse)
def evaluate_step(request: Request, dataset_id: str) -> HTMLResponse:
    """Step 3: metrics and report charts of every finished run, side by side."""
    dataset = _dataset(request, dataset_id)
    return _page(request, "evaluate.html", "evaluate", dataset=dataset, plotly=page_assets())


@router.get("/runs/{run_id}/navigate", response_class=HTMLResponse)
def navigate_step(request: Request, run_id: str) -> HTMLResponse:
    """Step 4 and 5: explore one release and download it."""
    ctx = context(request)
    run = ctx.store.run(run_id)
    if run is None:
        raise HTTPException(404, "No such run (it may have been deleted).")
    dataset = ctx.store.dataset(run.dataset_id) if run.dataset_id else None
    release = ctx.store.release_of(run_id)
    return _page(
        request,
        "navigate.html",
        "navigate",
        run=run,
        nav_run=run,
        dataset=dataset,
        release=release,
    )


@router.get("/static/worldmap.svg")
def world_map() -> Response:
    """The world map (country outlines keyed by ISO-2 class), served from a package."""
    return Response(
        world_map_svg(),
        media_type="image/svg+xml",
        headers={"cache-control": "max-age=86400"},
    )


@router.get("/favicon.ico")
def favicon() -> Response:
    """No icon."""
    return Response(status_code=204)


@functools.cache
def world_map_svg() -> str:
    """pygal's world map, reduced to country paths (no styles, no metadata, no script)."""
    spec = importlib.util.find_spec("pygal_maps_world")
    if spec is None or not spec.submodule_search_locations:
        return '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"></svg>'
    text = (Path(next(iter(spec.submodule_search_locations))) / "worldmap.svg").read_text(
        encoding="utf-8"
    )
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r"<script.*?</script>", "", text, flags=re.S | re.I)
    text = re.sub(r"\s(style|on\w+)=\"[^\"]*\"", "", text)
    text = re.sub(r"\s(width|height)=\"[^\"]*\"", "", text, count=2)
    return re.sub(r"\sxmlns:c2pa=\"[^\"]*\"", "", text)
