"""The Protect, Evaluate, Navigate and Download steps' API: runs and their releases."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from dpshowcase.errors import ParameterError, UserError
from dpshowcase.release.config import (
    DEFAULT_REPORTING_LENGTH,
    DP_KEYS,
    ReleaseConfig,
    advanced_dp,
)
from dpshowcase.release.explore import compare_release
from dpshowcase.release.package import RELEASE_FILES, guarded_csv, write_zip
from dpshowcase.release.pipeline import ReleaseJob
from dpshowcase.schema.model import ColumnKind
from dpshowcase.schema.toml_io import schema_from_dict
from dpshowcase.web.context import AppContext, context
from dpshowcase.web.datasets import get_dataset, json_body
from dpshowcase.web.store import Run, new_id, now

__all__ = ["ADVANCED_KEYS", "finished_run", "router", "run_json"]

router = APIRouter(prefix="/api")

ADVANCED_KEYS = tuple(key for key in DP_KEYS if key != "record_count_public")
"""Advanced DP parameters a run may set (those of a config file's [dp] table but the
record count, which the app cannot know to be public)."""

_MEDIA = {".csv": "text/csv", ".json": "application/json", ".md": "text/markdown"}
_MEDIA[".html"] = "text/html"
_MEDIA[".parquet"] = "application/octet-stream"


def run_json(ctx: AppContext, run: Run) -> dict[str, Any]:
    """A run as the API shows it (live progress when it is active)."""
    live = ctx.jobs.live(run.id)
    release = ctx.store.release_of(run.id) if run.status == "done" else None
    return {
        "id": run.id,
        "dataset_id": run.dataset_id,
        "dataset_name": run.dataset_name,
        "created": run.created.isoformat(),
        "status": live.status if live else run.status,
        "stage": live.stage if live else run.stage,
        "progress": live.progress if live else run.progress,
        "message": run.message,
        "params": run.params,
        "seconds": run.seconds,
        "release": release.summary if release else None,
        "evaluation": run.evaluation,
    }


def _run(ctx: AppContext, run_id: str) -> Run:
    run = ctx.store.run(run_id)
    if run is None:
        raise HTTPException(404, "No such run (it may have been deleted).")
    return run


def finished_run(ctx: AppContext, run_id: str) -> Run:
    """The run, if it has a release (404 for no such run, 409 while it has none)."""
    run = _run(ctx, run_id)
    if run.status != "done" or not ctx.store.bundle_dir(run_id).is_dir():
        raise HTTPException(409, "This run has no release yet.")
    return run


def _job(ctx: AppContext, dataset: Any, run_id: str, body: dict[str, Any]) -> ReleaseJob:
    """The release a run request asks for.

    Every value is checked by the one config model, as for the command line and the
    config file: :class:`ReleaseConfig` (types and ranges), :class:`ReleaseJob` (the
    release as a whole, and k against the table's size). Only two limits are this
    app's own, see below.
    """
    mode = body.get("mode", "dp")
    r = body.get("reporting_length", DEFAULT_REPORTING_LENGTH)
    # Web only: the server's operator bounds R (settings.max_reporting_length) so that
    # one request cannot tie up a shared app; a command-line user runs on their own
    # machine and is bounded only by what can be counted (check_reporting_length).
    if isinstance(r, int) and r > ctx.settings.max_reporting_length:
        raise ParameterError(
            f"The reporting length may be at most {ctx.settings.max_reporting_length} here."
        )
    seed = body.get("seed")
    lineage = body.get("lineage")
    advanced = body.get("advanced") or {}
    config = ReleaseConfig(
        epsilon=body.get("epsilon") if mode == "dp" else None,
        delta=body.get("delta") if mode == "dp" else None,
        reporting_length=r,
        seed=None if seed == "" else seed,
        fabrication_weight=body.get("fabrication_weight"),
        row_share=body.get("row_share"),
        lineage=None if lineage is None or str(lineage).strip() == "" else lineage,
        dp={k: v for k, v in advanced_dp(advanced).items() if v is not None}
        if mode == "dp"
        else {},
    )
    dp = None
    if mode == "dp":
        # Web only: the form offers no way to declare the record count public knowledge
        # (a claim about the world outside the data that the app cannot check, and that
        # removes the count's noise); the command line and config file may declare it.
        if "record_count_public" in config.dp:
            raise ParameterError(f"Advanced settings may only be {', '.join(ADVANCED_KEYS)}.")
        if config.epsilon is None:
            raise ParameterError("Give a privacy budget ε (epsilon), e.g. 4.")
        dp = config.dp_parameters()
    job = ReleaseJob(
        data=ctx.store.upload_path(dataset),
        output=ctx.store.bundle_dir(run_id),
        mode=mode,
        dp=dp,
        k=body.get("k"),
        k_synthesizer=body.get("k_synthesizer", "row-seeded"),
        k_reporting_length=r,
        schema=schema_from_dict(dataset.schema),
        source_name=dataset.name,
        seed=config.seed,
        fabrication_weight=config.fabrication_weight,
        row_share=config.synthesis_row_share,
        evaluate=True,
        lineage=config.lineage,
        ledger=ctx.settings.ledger_path,
    )
    job.check_record_count(dataset.rows)  # known before any worker runs
    return job


def _params(job: ReleaseJob) -> dict[str, Any]:
    """A run's parameters as the app stores and shows them."""
    if job.mode == "dp" and job.dp is not None:
        params: dict[str, Any] = {
            "mode": "dp",
            "dp": job.to_spec()["dp"],
            "reporting_length": job.reporting_length,
            "fabrication_weight": None
            if job.fabrication_weight is None
            else float(job.fabrication_weight),
            "row_share": float(job.row_share),
        }
    else:
        params = {
            "mode": job.mode,
            "k": job.k,
            "k_synthesizer": job.k_synthesizer,
            "reporting_length": job.reporting_length,
        }
    params["seed"] = job.seed
    params["lineage"] = job.lineage
    return params


def _label(params: dict[str, Any]) -> str:
    """A run's parameters in a few words, for pages."""
    lineage = f", lineage {params['lineage']}" if params.get("lineage") else ""
    if params["mode"] == "k-anonymity":
        return (
            f"k = {params['k']} ({params['k_synthesizer']}), R = {params['reporting_length']}"
            f"{lineage}"
        )
    return f"ε = {params['dp']['epsilon']:g}, R = {params['reporting_length']}{lineage}"


@router.post("/datasets/{dataset_id}/runs", status_code=202)
async def create_run(request: Request, dataset_id: str) -> dict[str, Any]:
    """Queue a release of the dataset with its saved schema and the given parameters."""
    ctx = context(request)
    dataset = get_dataset(ctx, dataset_id)
    body = await json_body(request)
    run_id = new_id()
    try:
        job = _job(ctx, dataset, run_id, body)
    except UserError as exc:
        raise HTTPException(400, str(exc)) from None
    params = _params(job)
    params["label"] = _label(params)
    params["schema"] = dataset.schema
    ctx.store.add(
        Run(
            id=run_id,
            dataset_id=dataset.id,
            dataset_name=dataset.name,
            created=now(),
            status="queued",
            stage="Queued",
            progress=0.0,
            message="",
            params=params,
        )
    )
    ctx.jobs.submit(run_id, job.to_spec())
    return run_json(ctx, _run(ctx, run_id))


@router.get("/runs")
def list_runs(request: Request, dataset_id: str | None = None) -> list[dict[str, Any]]:
    """Runs (of one dataset), newest first."""
    ctx = context(request)
    return [run_json(ctx, r) for r in ctx.store.runs(dataset_id)]


@router.get("/runs/{run_id}")
def get_run(request: Request, run_id: str) -> dict[str, Any]:
    """A run's status, progress, parameters and release summary."""
    ctx = context(request)
    return run_json(ctx, _run(ctx, run_id))


@router.post("/runs/{run_id}/cancel")
def cancel_run(request: Request, run_id: str) -> dict[str, Any]:
    """Stop a queued or running run."""
    ctx = context(request)
    _run(ctx, run_id)
    if not ctx.jobs.cancel(run_id):
        raise HTTPException(409, "The run is not queued or running.")
    return run_json(ctx, _run(ctx, run_id))


@router.delete("/runs/{run_id}")
def delete_run(request: Request, run_id: str) -> dict[str, Any]:
    """Delete a run and its release bundle."""
    ctx = context(request)
    _run(ctx, run_id)
    ctx.jobs.cancel(run_id)
    ctx.explorers.drop(run_id)
    ctx.store.delete_run(run_id)
    return {"deleted": run_id}


@router.get("/runs/{run_id}/evaluation")
async def evaluation(request: Request, run_id: str) -> dict[str, Any]:
    """How closely the synthetic records reproduce the protected counts."""
    ctx = context(request)
    run = finished_run(ctx, run_id)
    if run.evaluation:
        return run.evaluation

    result = await run_in_threadpool(compare_release, ctx.store.bundle_dir(run_id))
    ctx.store.update_run(run_id, evaluation=result)
    return result


@router.post("/runs/{run_id}/navigate")
async def navigate(request: Request, run_id: str) -> dict[str, Any]:
    """Synthetic beside protected counts for a selection of attributes, per column."""
    ctx = context(request)
    finished_run(ctx, run_id)
    body = await json_body(request)
    selection = body.get("selection", [])
    if not isinstance(selection, list) or len(selection) > 20:
        raise HTTPException(400, "The selection must be a list of at most 20 [column, value].")
    try:
        return await run_in_threadpool(_navigate, ctx, run_id, selection)
    except UserError as exc:
        raise HTTPException(400, str(exc)) from None


def _navigate(ctx: AppContext, run_id: str, selection: list[Any]) -> dict[str, Any]:
    explorer = ctx.explorer(run_id)
    if not all(isinstance(item, list | tuple) for item in selection):
        raise ParameterError("A selected attribute is a pair [column, value].")
    view = explorer.select(selection)
    return {
        "selection": [list(a) for a in view.attributes],
        "protected": view.protected,
        "synthetic": view.synthetic,
        "gap": None if view.gap is None else round(view.gap, 4),
        "reporting_length": explorer.reporting_length,
        "record_count": explorer.record_count,
        "columns": [
            {
                "name": name,
                "values": [dataclasses.asdict(v) for v in rows],
            }
            for name, rows in view.columns.items()
        ],
        "maps": [{"column": c, "codes": codes} for c, codes in explorer.iso3_columns.items()],
        "multi_value": [
            c.name for c in explorer.schema.columns if c.kind is ColumnKind.MULTI_VALUE
        ],
    }


@router.get("/runs/{run_id}/bundle.zip")
async def download_zip(request: Request, run_id: str) -> Response:
    """The release bundle as a zip: release files only, CSV guarded against formulas."""
    ctx = context(request)
    run = finished_run(ctx, run_id)
    buffer = io.BytesIO()
    await run_in_threadpool(write_zip, ctx.store.bundle_dir(run_id), buffer)
    name = f"release-{run.created.strftime('%Y%m%d-%H%M%S')}-{run_id[:8]}.zip"
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.get("/runs/{run_id}/files/{name}")
async def download_file(request: Request, run_id: str, name: str) -> Response:
    """One file of the release bundle (CSV guarded against formulas)."""
    ctx = context(request)
    finished_run(ctx, run_id)
    if name not in RELEASE_FILES:
        raise HTTPException(404, "No such release file.")
    path = ctx.store.bundle_dir(run_id) / name
    if not path.is_file():
        raise HTTPException(404, "No such release file.")
    data = await run_in_threadpool(
        guarded_csv if name.endswith(".csv") else lambda p: p.read_bytes(), path
    )
    suffix = "." + name.rsplit(".", 1)[-1]
    return Response(
        data,
        media_type=_MEDIA.get(suffix, "application/octet-stream"),
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def parameters_text(params: dict[str, Any]) -> str:
    """Parameters as compact JSON (for pages)."""
    return json.dumps(params, sort_keys=True)
