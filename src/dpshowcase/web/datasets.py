"""The Data step's API: upload, preview, schema, value counts, risk, delete."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from dpshowcase.aggregate.linkability import linkability
from dpshowcase.data.prepare import prepare
from dpshowcase.errors import InputError, ParameterError, SchemaError, UserError
from dpshowcase.schema.infer import infer_schema
from dpshowcase.schema.model import Schema
from dpshowcase.schema.toml_io import schema_from_dict, schema_to_dict
from dpshowcase.web.context import AppContext, context
from dpshowcase.web.store import Dataset, new_id, now
from dpshowcase.web.uploads import UploadTooLargeError, load_upload, receive_upload

__all__ = ["UPLOAD_PATH", "dataset_json", "get_dataset", "json_body", "router"]

router = APIRouter(prefix="/api/datasets")

UPLOAD_PATH = "/api/datasets"
PREVIEW_ROWS = 20
TOP_VALUES = 30


def dataset_json(d: Dataset) -> dict[str, Any]:
    """A dataset as the API shows it."""
    return {
        "id": d.id,
        "name": d.name,
        "created": d.created.isoformat(),
        "rows": d.rows,
        "columns": d.column_names,
        "size_bytes": d.size_bytes,
        "schema": d.schema,
        "reports": d.reports,
    }


def get_dataset(ctx: AppContext, dataset_id: str) -> Dataset:
    """The dataset, or HTTP 404."""
    dataset = ctx.store.dataset(dataset_id)
    if dataset is None:
        raise HTTPException(404, "No such dataset (it may have been deleted).")
    return dataset


def _bad(exc: UserError) -> HTTPException:
    return HTTPException(400, str(exc))


@router.post("", status_code=201)
async def upload(request: Request, name: str = "upload.csv") -> dict[str, Any]:
    """Upload a CSV/TSV/Parquet file as the raw request body; infer its schema."""
    ctx = context(request)
    display = name.strip()[:200] or "upload.csv"
    try:
        path = await receive_upload(request, display, ctx.settings)
    except UploadTooLargeError:
        raise HTTPException(413, ctx.too_large_message()) from None
    except InputError as exc:
        raise _bad(exc) from None
    try:
        dataset = await run_in_threadpool(_register, ctx, path, display)
    except UserError as exc:
        path.unlink(missing_ok=True)
        raise _bad(exc) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return dataset_json(dataset)


def _register(ctx: AppContext, path: Any, display: str) -> Dataset:
    frame = load_upload(path, display, ctx.settings)
    try:
        schema, reports = infer_schema(frame)
    except SchemaError as exc:
        raise InputError(str(exc)) from None
    dataset = Dataset(
        id=new_id(),
        name=display,
        file=path.name,
        created=now(),
        size_bytes=path.stat().st_size,
        rows=frame.height,
        column_names=list(frame.columns),
        schema=schema_to_dict(schema),
        reports=[
            {
                "name": r.name,
                "decision": r.decision,
                "distinct": r.distinct,
                "empty_share": round(r.empty_share, 4),
                "note": r.note,
                "identifier": "identifier" in r.note,
            }
            for r in reports
        ],
    )
    ctx.store.add(dataset)
    ctx.frames.put(dataset.id, frame)
    return dataset


@router.get("")
def list_datasets(request: Request) -> list[dict[str, Any]]:
    """Every uploaded dataset, newest first."""
    return [dataset_json(d) for d in context(request).store.datasets()]


@router.get("/{dataset_id}")
def read_dataset(request: Request, dataset_id: str) -> dict[str, Any]:
    """One dataset: size, columns, schema and what inference decided."""
    return dataset_json(get_dataset(context(request), dataset_id))


@router.get("/{dataset_id}/preview")
def preview(request: Request, dataset_id: str, rows: int = PREVIEW_ROWS) -> dict[str, Any]:
    """The first rows of the table."""
    ctx = context(request)
    frame = ctx.frame(get_dataset(ctx, dataset_id))
    head = frame.head(max(1, min(rows, 100)))
    return {"columns": head.columns, "rows": [list(r) for r in head.iter_rows()]}


@router.get("/{dataset_id}/values")
def values(request: Request, dataset_id: str, column: str) -> dict[str, Any]:
    """The most frequent raw values of one column and how many cells are empty."""
    ctx = context(request)
    frame = ctx.frame(get_dataset(ctx, dataset_id))
    if column not in frame.columns:
        raise HTTPException(404, "The table has no such column.")
    series = frame.get_column(column).str.strip_chars()
    empty = int((series.is_null() | (series == "")).sum())
    present = series.filter(series.is_not_null() & (series != ""))
    counts = present.value_counts(sort=True, name="count").head(TOP_VALUES)
    return {
        "column": column,
        "rows": frame.height,
        "empty": empty,
        "distinct": int(present.n_unique()),
        "values": [{"value": v, "count": int(c)} for v, c in counts.iter_rows()],
    }


def _schema(body: dict[str, Any] | None, dataset: Dataset) -> Schema:
    raw = body if body is not None else dataset.schema
    if not isinstance(raw, dict):
        raise SchemaError("The schema must be an object with a list of columns.")
    schema = schema_from_dict(raw, source="the schema")
    missing = [c for c in schema.source_columns if c not in dataset.column_names]
    if missing:
        raise SchemaError(f"The table has no column {missing[0]!r}.")
    return schema


@router.put("/{dataset_id}/schema")
async def put_schema(request: Request, dataset_id: str) -> dict[str, Any]:
    """Check an edited schema against the data and store it."""
    ctx = context(request)
    dataset = get_dataset(ctx, dataset_id)
    body = await json_body(request)
    try:
        summary = await run_in_threadpool(_check_schema, ctx, dataset, body)
    except UserError as exc:
        raise _bad(exc) from None
    return summary


def _check_schema(ctx: AppContext, dataset: Dataset, body: dict[str, Any]) -> dict[str, Any]:
    schema = _schema(body, dataset)
    sensitive = prepare(ctx.frame(dataset), schema)
    stored = schema_to_dict(schema)
    ctx.store.set_schema(dataset.id, stored)
    attributes = sensitive.attributes
    return {
        "schema": stored,
        "records": sensitive.n_records,
        "attributes": {c: len(attributes.attributes_of(c)) for c in attributes.columns},
    }


@router.post("/{dataset_id}/risk")
async def risk(request: Request, dataset_id: str) -> dict[str, Any]:
    """Records made linkable by combinations rarer than the resolution (exact counts)."""
    ctx = context(request)
    dataset = get_dataset(ctx, dataset_id)
    body = await json_body(request)
    try:
        return await run_in_threadpool(_risk, ctx, dataset, body)
    except UserError as exc:
        raise _bad(exc) from None


def _risk(ctx: AppContext, dataset: Dataset, body: dict[str, Any]) -> dict[str, Any]:
    schema = _schema(body.get("schema"), dataset)
    resolution = _whole(body.get("resolution", 10), "resolution", 1, 1_000_000)
    r = _whole(
        body.get("reporting_length", 3), "reporting length", 1, ctx.settings.max_reporting_length
    )
    r = min(r, len(schema.columns))
    sensitive = prepare(ctx.frame(dataset), schema, allow_identifiers=True)
    result = linkability(sensitive, r, resolution)
    return {
        "records": result.records,
        "linkable": result.linkable,
        "share": round(result.share, 4),
        "resolution": resolution,
        "reporting_length": r,
        "columns": [{"name": c, "records": n} for c, n in result.column_records.items()][:15],
        "attributes": [{"label": a, "records": n} for a, n in result.attribute_records[:15]],
    }


@router.delete("/{dataset_id}")
def delete(request: Request, dataset_id: str, releases: bool = False) -> JSONResponse:
    """Delete the uploaded data and everything derived from it (releases if asked)."""
    ctx = context(request)
    get_dataset(ctx, dataset_id)
    for run in ctx.store.runs(dataset_id):
        ctx.jobs.cancel(run.id)
    ctx.frames.drop(dataset_id)
    ctx.forget_runs(dataset_id)
    ctx.store.delete_dataset(dataset_id, with_releases=releases)
    return JSONResponse({"deleted": dataset_id, "releases_deleted": releases})


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ParameterError(f"The {name} must be a whole number from {low} to {high}.")
    return value


MAX_DIGITS = 20
"""Longest whole number a request may hold (2^64 - 1 has 20 digits)."""


class _NumberError(ValueError):
    """A number no parameter can take (too long, infinite, not a number)."""


def _whole_number(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _NumberError(f"A number in the request has more than {MAX_DIGITS} digits.")
    return int(text)


def _real_number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NumberError(f"The number {text[:30]} in the request is too large.")
    return value


def _constant(text: str) -> Any:
    raise _NumberError(f"{text} is not a number a parameter can take.")


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or HTTP 400.

    Numbers no parameter can take — more than 20 digits, beyond the range of a float,
    NaN, Infinity — are refused here, so that no check further on meets an overflow.
    """
    try:
        body = json.loads(
            await request.body() or b"{}",
            parse_int=_whole_number,
            parse_float=_real_number,
            parse_constant=_constant,
        )
    except _NumberError as exc:
        raise HTTPException(400, f"{exc} Give parameters within their ranges.") from None
    except ValueError:
        raise HTTPException(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "The request body must be a JSON object.")
    return body
