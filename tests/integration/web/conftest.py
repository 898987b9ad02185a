"""The web app in-process (FastAPI TestClient) on a fresh data folder.

Each client opens the app the way its owner does: once with ``?token=`` (which sets the
access cookie), then with the cookie; and reads the CSRF token from the page.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dpshowcase.data.demo import generate_demo_records
from dpshowcase.web.app import create_app
from dpshowcase.web.settings import WebSettings

BASE = "http://127.0.0.1:8765"


class Client(TestClient):
    """A TestClient that knows its CSRF token."""

    token: str = ""

    def send_upload(self, content: bytes, name: str = "cases.csv", **kwargs: Any) -> Any:
        return self.post(
            "/api/datasets",
            params={"name": name},
            content=content,
            headers={"X-CSRF-Token": self.token, **kwargs.pop("headers", {})},
            **kwargs,
        )

    def api(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {"X-CSRF-Token": self.token, **kwargs.pop("headers", {})}
        return self.request(method, url, headers=headers, **kwargs)

    def wait(self, run_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.get(f"/api/runs/{run_id}").json()
            if run["status"] not in ("queued", "running"):
                return run
            time.sleep(0.2)
        raise AssertionError(f"run {run_id} did not finish in {timeout} s")


def open_client(settings: WebSettings) -> Client:
    client = Client(create_app(settings), base_url=BASE)
    client.__enter__()
    page = client.get("/", params={"token": settings.access_token}).text
    client.token = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page).group(1)
    return client


@pytest.fixture(scope="session")
def demo_bytes() -> bytes:
    """600 fictitious case records as CSV."""
    buffer = io.BytesIO()
    generate_demo_records(rows=600, seed=3).write_csv(buffer)
    return buffer.getvalue()


def small_settings(data_dir: Path, **overrides: Any) -> WebSettings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "max_upload_bytes": 2 * 1024 * 1024,
        "max_rows": 50_000,
        "max_columns": 60,
    }
    values.update(overrides)
    return WebSettings(**values)


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., Client]]:
    """Open clients on this test's data folder (closed at the end)."""
    opened: list[Client] = []

    def make(data_dir: Path | None = None, **overrides: Any) -> Client:
        client = open_client(small_settings(data_dir or tmp_path / "state", **overrides))
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    return make_client()


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory, demo_bytes: bytes) -> Iterator[Any]:
    """A client with one uploaded dataset and one finished, seeded DP run."""
    client = open_client(small_settings(tmp_path_factory.mktemp("web-released")))
    dataset = client.send_upload(demo_bytes).json()
    run = client.api(
        "POST",
        f"/api/datasets/{dataset['id']}/runs",
        json={"epsilon": 4, "reporting_length": 3, "seed": 5},
    ).json()
    done = client.wait(run["id"])
    assert done["status"] == "done", done
    yield client, dataset, done
    client.__exit__(None, None, None)
