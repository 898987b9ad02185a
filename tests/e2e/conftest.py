"""Browser tests: the real server in a subprocess, Debian's Chromium driven by Playwright.

Chromium comes from the system (``/usr/bin/chromium``, installed by ``.ci/run``/the
Makefile); Playwright never downloads a browser. Screenshots of every step are written
to ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("DPSHOWCASE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def artifacts(repo_root: Path) -> Path:
    """Where screenshots and downloads of the browser tests go."""
    folder = repo_root / "tests" / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def demo_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 fictitious case records, written by the CLI."""
    path = tmp_path_factory.mktemp("demo") / "cases.csv"
    cli = Path(sys.executable).with_name("dpshowcase")
    subprocess.run(
        [str(cli), "demo-data", "--rows", "3000", "--output", str(path)],
        check=True,
        capture_output=True,
    )
    return path


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``dpshowcase serve`` on a free loopback port with a fresh data folder: its base
    address and the access token it printed."""
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("web-state")
    log = tmp_path_factory.mktemp("web-log") / "serve.txt"
    cli = Path(sys.executable).with_name("dpshowcase")
    with log.open("wb") as err:
        process = subprocess.Popen(
            [str(cli), "serve", "--port", str(port), "--data-dir", str(data_dir)],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        printed = re.search(rf"{re.escape(base)}/\?token=([\w-]+)", log.read_text())
        if printed:
            request = urllib.request.Request(
                base + "/api/datasets", headers={"Authorization": f"token {printed.group(1)}"}
            )
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    try:
        yield base, printed.group(1)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def server(served: tuple[str, str]) -> str:
    """The base address of the running app."""
    return served[0]


@pytest.fixture(scope="session")
def server_token(served: tuple[str, str]) -> str:
    """The access token the running app printed."""
    return served[1]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium from the system (skipped outside CI when it is missing)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run should have installed chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield instance
        finally:
            instance.close()
