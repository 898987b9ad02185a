"""The privacy ledger in the web app: a lineage's releases, cumulative loss and cap, and
its withdrawal list (see :mod:`dpshowcase.ledger`).

Withdrawn ids arrive in a request body and are hashed at once; they are never stored,
logged or echoed back (the answer says how many were new, nothing else).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from dpshowcase.errors import UserError
from dpshowcase.ledger.report import lineage_report
from dpshowcase.ledger.store import Ledger, check_lineage_name
from dpshowcase.ledger.withdrawal import ids_from_text
from dpshowcase.web.context import AppContext, context
from dpshowcase.web.datasets import json_body
from dpshowcase.web.pages import render

__all__ = ["api", "pages"]

pages = APIRouter()
api = APIRouter(prefix="/api/lineages")


def _report(ctx: AppContext, name: str) -> dict[str, Any]:
    """A lineage's report, or HTTP 404/400."""
    try:
        name = check_lineage_name(name)
        with Ledger.open(ctx.settings.ledger_path) as book:
            if not book.exists(name):
                raise HTTPException(404, "No such lineage in the ledger.")
            return lineage_report(book, name)
    except UserError as exc:
        raise HTTPException(400, str(exc)) from None


def _names(ctx: AppContext) -> list[str]:
    if not ctx.settings.ledger_path.is_file():
        return []
    with Ledger.open(ctx.settings.ledger_path) as book:
        return book.lineages()


@api.get("")
def list_lineages(request: Request) -> list[str]:
    """The lineages the ledger knows."""
    return _names(context(request))


@api.get("/{name}")
def read_lineage(request: Request, name: str) -> dict[str, Any]:
    """A lineage's releases, cumulative loss, cap and cap history."""
    return _report(context(request), name)


@api.post("/{name}/withdrawals")
async def withdraw(request: Request, name: str) -> dict[str, Any]:
    """Record withdrawn ids: body {"ids": "<text of the file>", "column": null or "COL"}."""
    ctx = context(request)
    body = await json_body(request)
    text, column = body.get("ids"), body.get("column") or None
    if not isinstance(text, str) or (column is not None and not isinstance(column, str)):
        raise HTTPException(400, "Send the id list as text, and the column name (if any).")
    try:
        added, moment = await run_in_threadpool(_withdraw, ctx, name, text, column)
    except UserError as exc:
        raise HTTPException(400, str(exc)) from None
    return {"lineage": name, "new": added, "recorded": moment.isoformat()}


def _withdraw(ctx: AppContext, name: str, text: str, column: str | None) -> Any:

    ids = ids_from_text(text, column)
    with Ledger.open(ctx.settings.ledger_path) as book:
        return book.withdraw(name, ids)


@pages.get("/lineages", response_class=HTMLResponse)
def lineages_page(request: Request) -> HTMLResponse:
    """Every lineage, with its cumulative loss and cap."""
    ctx = context(request)
    reports = [_report(ctx, name) for name in _names(ctx)]
    return render(request, "lineages.html", lineages=reports, lineage=None)


@pages.get("/lineages/{name}", response_class=HTMLResponse)
def lineage_page(request: Request, name: str) -> HTMLResponse:
    """One lineage: releases, cumulative loss, cap, and the withdrawal form."""
    ctx = context(request)
    return render(request, "lineages.html", lineages=[], lineage=_report(ctx, name))
