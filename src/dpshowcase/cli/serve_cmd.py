"""``dpshowcase serve``: the local web app (see :mod:`dpshowcase.web`)."""

from __future__ import annotations

import ipaddress
import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from dpshowcase.cli._output import console, user_errors


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; keep the default (this machine).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8765,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Folder for the app's database, uploads and releases "
            "(default: your user data folder).",
        ),
    ] = None,
    max_upload_mb: Annotated[
        int, typer.Option("--max-upload-mb", help="Largest upload accepted, in MiB.")
    ] = 256,
    ledger: Annotated[
        Path | None,
        typer.Option(
            "--ledger", help="The privacy ledger file [ledger.sqlite3 in the data folder]."
        ),
    ] = None,
) -> None:
    """Start the web app: prepare, protect, synthesize, evaluate, navigate, download.

    Everything stays on this machine: pages, scripts and data are served by the app
    itself and nothing is sent anywhere else. The app is yours alone: open the address
    it prints, which carries a new random access token; without the token every request
    is refused. Its data folder is readable by you only, and used by one server at a time.
    """
    umask = os.umask(0o077)  # whatever this process writes is for its owner only
    try:
        _serve(host, port, data_dir, max_upload_mb, ledger)
    finally:
        os.umask(umask)


def _serve(
    host: str, port: int, data_dir: Path | None, max_upload_mb: int, ledger: Path | None
) -> None:
    # Deferred: the web app loads FastAPI, uvicorn and the whole library; --help stays instant.
    import uvicorn

    from dpshowcase.web.app import create_app
    from dpshowcase.web.settings import WebSettings, default_data_dir

    with user_errors():
        extra: tuple[str, ...] = ()
        if not _is_loopback(host):
            console.print(
                f"[bold yellow]Warning:[/] listening on {host} makes the app reachable from "
                "other machines, over plain HTTP: anyone who sees the address with its token "
                "can see the uploaded sensitive data. Use the default 127.0.0.1 unless you "
                "know why not.",
                soft_wrap=True,
            )
            if host not in ("0.0.0.0", "::"):
                extra = (host.strip("[]"),)
        settings = WebSettings(
            data_dir=data_dir or default_data_dir(),
            max_upload_bytes=max_upload_mb * 1024 * 1024,
            extra_hosts=extra,
            ledger=ledger,
        )
        app = create_app(settings)  # refuses a data folder another server is using
        shown = f"[{host}]" if ":" in host else host
        address = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"
        console.print(
            f"dpshowcase is running; open this address (it carries your access token, "
            f"keep it to yourself):\n    {address}?token={settings.access_token}\n"
            f"(data in {settings.data_dir}; stop with Ctrl-C)",
            soft_wrap=True,
            markup=False,
        )
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        try:
            uvicorn.run(
                app,
                host=host,
                port=port,
                access_log=False,  # URLs carry the token, column names and values: not logged
                log_level="warning",
                server_header=False,
            )
        finally:
            app.close()
