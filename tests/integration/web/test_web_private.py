"""The app belongs to the person who started it (issue 13, point 6; point 4's web side).

Another user of the machine must not be able to use it (access token on every route,
owner-only data folder), a second server must not take over a folder in use, a
cross-site request must not change anything, and bad uploads or parameters — a
Parquet file that decodes to gigabytes, a huge cell, a seed beyond 64 bits, a full
disk — get 400 and one sentence, never a 500 or a table held in memory.
"""

from __future__ import annotations

import errno
import io
import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from dpshowcase.errors import ParameterError
from dpshowcase.web import uploads
from dpshowcase.web.app import create_app
from dpshowcase.web.datafolder import DISK_FULL, DataFolderInUseError
from dpshowcase.web.security import without_token
from dpshowcase.web.settings import WebSettings
from dpshowcase.web.store import Run, new_id, now


def _stranger(client):
    """Another user's browser: the same server, none of the owner's cookies."""
    return type(client)(client.app, base_url=str(client.base_url))


def _stored(client):
    return sorted(p.name for p in client.app.app.state.ctx.settings.uploads.iterdir())


# -- the access token --------------------------------------------------------------------

ROUTES = [
    ("GET", "/"),  # a page (it holds the CSRF token)
    ("GET", "/datasets/{dataset}"),
    ("GET", "/runs/{run}/navigate"),
    ("GET", "/static/app.css"),  # a static file
    ("GET", "/static/worldmap.svg"),
    ("GET", "/static/vendor/plotly.min.js"),
    ("GET", "/favicon.ico"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/datasets"),  # the API
    ("GET", "/api/datasets/{dataset}"),
    ("GET", "/api/datasets/{dataset}/preview"),
    ("GET", "/api/datasets/{dataset}/values?column=country"),
    ("GET", "/api/runs"),
    ("GET", "/api/runs/{run}/bundle.zip"),  # downloads
    ("GET", "/api/runs/{run}/files/synthetic.csv"),
    ("GET", "/nowhere"),
    ("POST", "/api/datasets"),  # changes
    ("PUT", "/api/datasets/{dataset}/schema"),
    ("DELETE", "/api/datasets/{dataset}"),
    ("POST", "/api/runs/{run}/cancel"),
]


@pytest.fixture
def owned(client, demo_bytes):
    """A client with one uploaded dataset, and the ids to put in the routes."""
    dataset = client.send_upload(demo_bytes).json()
    return client, {"dataset": dataset["id"], "run": new_id()}


def test_every_route_needs_the_token(owned):
    client, ids = owned
    stranger = _stranger(client)
    for method, route in ROUTES:
        url = route.format(**ids)
        # even with a valid CSRF token (a page's token is no access token)
        response = stranger.request(method, url, headers={"X-CSRF-Token": client.token})
        assert response.status_code == 403, (method, url, response.status_code)
        assert "private to the person who started it" in response.text
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert "set-cookie" not in response.headers
    # nothing was changed, and the owner still sees everything
    assert client.get(f"/api/datasets/{ids['dataset']}").status_code == 200
    assert client.get(f"/api/datasets/{ids['dataset']}/preview").status_code == 200
    assert len(_stored(client)) == 1


def test_a_wrong_token_is_refused(owned, make_client, tmp_path):
    client, ids = owned
    token = client.app.access_token
    other_app = make_client(data_dir=tmp_path / "other").app.access_token
    stranger = _stranger(client)
    url = f"/api/datasets/{ids['dataset']}"
    for wrong in ("", "x", token[:-1], token + "x", token.upper(), other_app, "é" * 43):
        assert stranger.get(url, params={"token": wrong}).status_code == 403
        header = {"Authorization": f"token {wrong}".encode()}
        assert stranger.get(url, headers=header).status_code == 403
        if wrong.isascii():
            stranger.cookies.set("dps_access_8765", wrong)
            assert stranger.get(url).status_code == 403
            stranger.cookies.clear()
    # a right token beside a wrong one in the query is refused too
    assert stranger.get(f"{url}?token={token}&token=x").status_code == 403


def test_the_token_in_the_address_sets_a_cookie_and_is_removed(owned):
    client, ids = owned
    token = client.app.access_token
    stranger = _stranger(client)
    first = stranger.get(
        f"/datasets/{ids['dataset']}", params={"a": "1", "token": token}, follow_redirects=False
    )
    assert first.status_code == 303
    assert first.headers["location"] == f"/datasets/{ids['dataset']}?a=1"
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"dps_access_8765={token};")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/" in cookie
    # from now on the cookie is enough
    assert stranger.get(f"/api/datasets/{ids['dataset']}").status_code == 200
    assert stranger.get(f"/datasets/{ids['dataset']}").status_code == 200
    # the redirect never leaves the site
    scope = {"path": "//evil.example/x y", "query_string": f"token={token}&b=%2F".encode()}
    assert without_token(scope) == "/evil.example/x%20y?b=%2F"


def test_scripts_may_send_the_token_in_a_header(owned):
    client, ids = owned
    token = client.app.access_token
    for scheme in ("token", "Bearer"):
        stranger = _stranger(client)
        response = stranger.get("/api/datasets", headers={"Authorization": f"{scheme} {token}"})
        assert response.status_code == 200
        assert [d["id"] for d in response.json()] == [ids["dataset"]]


def test_serve_prints_the_address_with_the_token(monkeypatch, tmp_path):
    import uvicorn

    from dpshowcase.cli.main import app

    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.append(app))
    result = CliRunner().invoke(app, ["serve", "--data-dir", str(tmp_path / "d"), "--port", "9"])
    assert result.exit_code == 0, result.output
    printed = re.search(r"http://127\.0\.0\.1:9/\?token=([A-Za-z0-9_-]{43})\b", result.output)
    assert printed is not None, result.output
    assert printed.group(1) == served[0].access_token
    # two starts, two tokens
    again = CliRunner().invoke(app, ["serve", "--data-dir", str(tmp_path / "d"), "--port", "9"])
    assert again.exit_code == 0, again.output
    assert served[1].access_token != served[0].access_token


# -- the Origin check --------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://127.0.0.1:9999"},  # another app on this machine
        {"Origin": "https://127.0.0.1:8765"},
        {"Origin": "null"},  # a sandboxed frame, a file:// page
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port of localhost is the same site
    ],
)
def test_cross_origin_changes_are_refused(owned, demo_bytes, headers):
    client, ids = owned
    upload = client.send_upload(demo_bytes, headers=headers)
    assert upload.status_code == 403
    assert "another site" in upload.text
    delete = client.api("DELETE", f"/api/datasets/{ids['dataset']}", headers=headers)
    assert delete.status_code == 403
    assert client.get(f"/api/datasets/{ids['dataset']}").status_code == 200
    assert len(_stored(client)) == 1
    assert client.get("/api/datasets", headers=headers).status_code == 200  # reading is fine


def test_same_origin_changes_pass(client, demo_bytes):
    for headers in (
        {"Origin": "http://127.0.0.1:8765", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "HTTP://127.0.0.1:8765"},
        {"Sec-Fetch-Site": "none"},  # typed by the user
    ):
        assert client.send_upload(demo_bytes, headers=headers).status_code == 201


# -- the data folder: owner-only -----------------------------------------------------------


def _modes(folder: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        found[str(path.relative_to(folder))] = stat.S_IMODE(path.lstat().st_mode)
    return found


@pytest.fixture
def open_umask():
    """The common umask 022, under which files are world-readable unless made private."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_the_data_folder_is_private(open_umask, make_client, demo_bytes, tmp_path):
    data_dir = tmp_path / "state"
    # left by an older version: readable by everyone
    (data_dir / "runs").mkdir(parents=True, mode=0o755)
    data_dir.chmod(0o755)
    (data_dir / "dpshowcase.sqlite3").touch(mode=0o644)
    (data_dir / "secret").write_bytes(os.urandom(32))
    (data_dir / "secret").chmod(0o644)

    client = make_client(data_dir=data_dir)
    dataset = client.send_upload(demo_bytes).json()
    body = {"epsilon": 4, "reporting_length": 2, "seed": 3}
    run = client.api("POST", f"/api/datasets/{dataset['id']}/runs", json=body).json()
    assert client.wait(run["id"])["status"] == "done"

    modes = _modes(data_dir)
    assert any(name.startswith("uploads/") for name in modes)
    assert any(name.endswith("synthetic.csv") for name in modes)  # the worker's files
    assert {"dpshowcase.sqlite3", "secret", ".lock"} <= set(modes)
    wrong = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (data_dir / name).is_dir() else 0o600)
    }
    assert wrong == {}


def test_a_folder_of_other_files_is_left_alone(open_umask, tmp_path):
    home = tmp_path / "home"
    (home / "thesis").mkdir(parents=True)
    (home / "thesis" / "chapter1.tex").write_text("x")
    (home / "runs").mkdir()  # a name the app uses, for something else
    (home / "runs" / "race.csv").write_text("x")
    before = _modes(home)
    with pytest.raises(ParameterError, match=r"holds other files \('thesis'\)"):
        create_app(WebSettings(data_dir=home))
    assert _modes(home) == before
    assert (home / "runs" / "race.csv").is_file()
    assert not (home / ".lock").exists()
    # the user data folder where a command-line release has only written the ledger
    shared = tmp_path / "dpshowcase"
    shared.mkdir()
    (shared / "ledger.sqlite3").write_bytes(b"")
    (shared / "ledger.sqlite3.key").write_bytes(b"k" * 32)  # after a first withdrawal
    create_app(WebSettings(data_dir=shared)).close()
    assert stat.S_IMODE((shared / "ledger.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE((shared / "ledger.sqlite3.key").stat().st_mode) == 0o600


def test_a_folder_of_another_user_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "shared"
    folder.mkdir()
    owner = folder.stat().st_uid
    monkeypatch.setattr(os, "getuid", lambda: owner + 1)  # as if someone else made it
    with pytest.raises(ParameterError, match="belongs to another user"):
        create_app(WebSettings(data_dir=folder))
    assert list(folder.iterdir()) == []


# -- one server per data folder --------------------------------------------------------------


def test_a_second_server_on_the_folder_is_refused(client, tmp_path):
    ctx = client.app.app.state.ctx
    run_id = new_id()
    ctx.store.add(
        Run(
            id=run_id,
            dataset_id=None,
            dataset_name="x.csv",
            created=now(),
            status="running",
            stage="Protecting",
            progress=0.4,
            message="",
            params={"mode": "dp", "dp": {"epsilon": 1, "reporting_length": 2}, "seed": None},
        )
    )
    ctx.store.bundle_dir(run_id).mkdir(parents=True)
    (ctx.store.bundle_dir(run_id) / "part.csv").write_text("a\n")

    with pytest.raises(DataFolderInUseError, match="already using the data folder"):
        create_app(ctx.settings)
    # another process, as a person would start it: refused with a sentence, exit 2
    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "from dpshowcase.cli.main import app; app()",
            "serve",
            "--port",
            "9",
            "--data-dir",
            str(ctx.settings.data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 2, started.stderr
    assert f"(process {os.getpid()}) is already using the data folder" in started.stderr
    assert "Traceback" not in started.stderr
    assert "token=" not in started.stderr  # no address of an app that is not running
    # the first server's job is untouched
    again = client.get(f"/api/runs/{run_id}").json()
    assert again["status"] == "running"
    assert (ctx.store.bundle_dir(run_id) / "part.csv").is_file()


def test_the_folder_is_free_again_once_the_server_stops(make_client, tmp_path):
    first = make_client(data_dir=tmp_path / "one")
    first.__exit__(None, None, None)
    second = make_client(data_dir=tmp_path / "one")
    assert second.get("/api/datasets").status_code == 200


# -- bad uploads and parameters: 400 and a sentence ------------------------------------------


def _parquet_bomb(rows: int, cell: int) -> bytes:
    """A column of ``rows`` copies of one ``cell``-byte value, dictionary-encoded."""
    value = pa.array(["a" * cell])
    column = pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), value)
    buffer = io.BytesIO()
    pq.write_table(
        pa.table({"note": column, "id": pa.array(range(rows))}),
        buffer,
        compression="zstd",
        use_dictionary=True,
    )
    return buffer.getvalue()


def test_a_parquet_bomb_is_refused_before_it_is_decoded(make_client, monkeypatch):
    client = make_client(max_rows=100_000)
    # 40,000 copies of a 100 KiB value: 4 GiB once decoded, from a file of a few KB
    bomb = _parquet_bomb(40_000, 100 * 1024)
    assert len(bomb) < 300_000
    metadata = pq.ParquetFile(io.BytesIO(bomb)).metadata
    stored = sum(metadata.row_group(0).column(c).total_uncompressed_size for c in range(2))
    settings = client.app.app.state.ctx.settings
    assert stored < settings.max_table_bytes  # the footer alone does not show the bomb

    def decoded(*args, **kwargs):
        raise AssertionError("the table was decoded")

    monkeypatch.setattr(uploads, "read_table", decoded)
    response = client.send_upload(bomb, name="bomb.parquet")
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert re.fullmatch(
        r"The table would take about [\d,]+ MiB of memory once read; the app accepts at most "
        r"[\d,]+ MiB\. Upload fewer rows or columns\.",
        detail,
    ), detail
    assert int(detail.split("about ")[1].split(" ")[0].replace(",", "")) >= 3900
    assert _stored(client) == []


def test_a_small_parquet_file_with_a_repeated_value_is_accepted(client):
    ok = _parquet_bomb(2_000, 1024)  # 2 MiB decoded
    response = client.send_upload(ok, name="notes.parquet")
    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 2_000


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_cell_over_128_kib_is_refused(client, kind):
    frame = pl.DataFrame({"a": ["x", "y" * (129 * 1024), "z"], "b": ["1", "2", "3"]})
    buffer = io.BytesIO()
    frame.write_csv(buffer) if kind == "csv" else frame.write_parquet(buffer)
    response = client.send_upload(buffer.getvalue(), name=f"long.{kind}")
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == (
        "Column 'a' has a cell of 129 KiB; cells may be at most 128 KiB. Is it the right file?"
    )
    assert _stored(client) == []
    frame = pl.DataFrame({"a": ["x", "y" * (128 * 1024)], "b": ["1", "2"]})
    buffer = io.BytesIO()
    frame.write_csv(buffer) if kind == "csv" else frame.write_parquet(buffer)
    assert client.send_upload(buffer.getvalue(), name=f"long.{kind}").status_code == 201


def test_a_text_table_too_large_for_memory_is_refused(make_client):
    client = make_client(max_table_bytes=64 * 1024)
    content = b"a,b,c\n" + b"1,2,3\n" * 2_000  # 6,000 cells: about 94 KiB as strings
    response = client.send_upload(content)
    assert response.status_code == 400
    assert "of memory once read" in response.json()["detail"]


SEED_RANGE = "The seed must be a whole number from 0 to 2^64 - 1 (or none)"  # check_seed
TOO_LONG = "A number in the request has more than 20 digits. Give parameters within their ranges."


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"seed": 2**64}, SEED_RANGE),
        ({"seed": -1}, SEED_RANGE),
        ({"seed": 1.5}, SEED_RANGE),
        ({"seed": "7"}, SEED_RANGE),
        ({"seed": 2**200}, TOO_LONG),
        ({"epsilon": 10**400}, TOO_LONG),  # int to float: an overflow further on
        ({"fabrication_weight": -(10**30)}, TOO_LONG),
        ({"advanced": {"sigma_proportions": [10**400, 1]}}, TOO_LONG),
        ({"mode": "k-anonymity", "k": 10**19}, "k = 10000000000000000000 is more than the 600"),
        ({"mode": "k-anonymity", "k": 601}, "k = 601 is more than the 600 records"),
    ],
)
def test_numbers_out_of_range_are_refused(client, demo_bytes, body, message):
    dataset = client.send_upload(demo_bytes).json()
    body = {"epsilon": 4, "reporting_length": 2, **body}
    response = client.api("POST", f"/api/datasets/{dataset['id']}/runs", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(message)
    assert client.get("/api/runs").json() == []


@pytest.mark.parametrize("text", ["1e400", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_numbers_beyond_a_float_are_refused(client, demo_bytes, text):
    dataset = client.send_upload(demo_bytes).json()
    content = '{"epsilon": ' + text + ', "reporting_length": 2}'
    response = client.api(
        "POST",
        f"/api/datasets/{dataset['id']}/runs",
        content=content,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert "Give parameters within their ranges." in response.json()["detail"]


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_during_an_upload_is_a_400(client, demo_bytes, monkeypatch):
    real = uploads.open_private

    class Full:
        def __init__(self, path):
            self.file = real(path)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

        write = staticmethod(_disk_full)

    monkeypatch.setattr(uploads, "open_private", Full)
    response = client.send_upload(demo_bytes)
    assert response.status_code == 400
    assert response.json()["detail"] == DISK_FULL
    assert _stored(client) == []  # the half-written part is gone


def test_a_full_database_is_a_400(client, demo_bytes, monkeypatch):
    dataset = client.send_upload(demo_bytes).json()
    store = client.app.app.state.ctx.store
    full = OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full"))

    def add(row):
        raise full

    monkeypatch.setattr(store, "add", add)
    body = {"epsilon": 4, "reporting_length": 2, "seed": 3}
    response = client.api("POST", f"/api/datasets/{dataset['id']}/runs", json=body)
    assert response.status_code == 400
    assert response.json()["detail"] == DISK_FULL


def test_a_full_disk_when_a_run_starts_fails_the_run(client, demo_bytes, monkeypatch):
    from dpshowcase.web import jobs

    dataset = client.send_upload(demo_bytes).json()
    monkeypatch.setattr(jobs, "write_private", _disk_full)
    body = {"epsilon": 4, "reporting_length": 2, "seed": 3}
    run = client.api("POST", f"/api/datasets/{dataset['id']}/runs", json=body).json()
    final = client.wait(run["id"])
    assert final["status"] == "failed"
    assert final["message"] == DISK_FULL
    assert not client.app.app.state.ctx.store.run_dir(run["id"]).exists()
    monkeypatch.undo()
    again = client.api("POST", f"/api/datasets/{dataset['id']}/runs", json=body).json()
    assert client.wait(again["id"])["status"] == "done"  # the app went on


def test_a_full_disk_in_the_worker_is_one_sentence(tmp_path, monkeypatch, capfd):
    from dpshowcase.web import worker

    monkeypatch.setattr(worker, "run_release", _disk_full)
    monkeypatch.setattr(worker, "job_from_spec", lambda spec: None)
    spec = tmp_path / "spec.json"
    spec.write_text('{"data": "x.csv", "output": "out", "mode": "dp"}', encoding="utf-8")
    assert worker.main([str(spec)]) == 0
    events = capfd.readouterr().out.strip().splitlines()
    assert events[-1] == '{"event": "failed", "message": "' + DISK_FULL + '"}'
