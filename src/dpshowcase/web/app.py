"""The FastAPI application: routes, static files and the security guard around them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dpshowcase._version import __version__
from dpshowcase.web import datasets, figures, lineages, pages, plotly_assets, runs
from dpshowcase.web.context import AppContext
from dpshowcase.web.datafolder import DISK_FULL, is_disk_full
from dpshowcase.web.security import Guard, load_secret
from dpshowcase.web.settings import WebSettings

__all__ = ["create_app"]

log = logging.getLogger("dpshowcase.web")
STATIC = Path(__file__).parent / "static"


def create_app(settings: WebSettings | None = None) -> Any:
    """The app, wrapped in its :class:`~dpshowcase.web.security.Guard`.

    The returned object is an ASGI app; the FastAPI app inside is ``.app`` and its
    shared state ``.app.state.ctx`` (an :class:`AppContext`).
    """
    settings = settings or WebSettings()
    ctx = AppContext(settings)  # locks the data folder, or refuses
    try:
        secret = load_secret(settings.data_dir / "secret")
    except BaseException:
        ctx.close()
        raise

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        ctx.close()

    app = FastAPI(
        title="dpshowcase",
        version=__version__,
        docs_url=None,  # the interactive docs load scripts from a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.include_router(pages.router)
    app.include_router(datasets.router)
    app.include_router(runs.router)
    app.include_router(lineages.pages)
    app.include_router(lineages.api)
    app.include_router(figures.router)
    app.include_router(plotly_assets.router)  # before /static: its files are generated
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        return JSONResponse({"detail": f"Bad request parameters: {fields}."}, status_code=422)

    async def full(request: Request, exc: Exception) -> JSONResponse:
        if not is_disk_full(exc):
            raise exc
        return JSONResponse({"detail": DISK_FULL}, status_code=400)

    app.add_exception_handler(OSError, full)
    app.add_exception_handler(OperationalError, full)

    guard = Guard(
        app,
        allowed_hosts=settings.allowed_hosts,
        secret=secret,
        access_token=settings.access_token,
        upload_paths=(datasets.UPLOAD_PATH,),
        upload_limit=settings.max_upload_bytes,
    )
    return _Wrapped(guard, app)


class _Wrapped:
    """The guarded ASGI app, with the FastAPI app reachable for tests and the server."""

    def __init__(self, guard: Guard, app: FastAPI) -> None:
        self.guard = guard
        self.app = app

    @property
    def access_token(self) -> str:
        """The token every request must carry."""
        return self.guard.access_token

    def close(self) -> None:
        """Stop the jobs and unlock the data folder (when the app was never served)."""
        self.app.state.ctx.close()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        await self.guard(scope, receive, send)
