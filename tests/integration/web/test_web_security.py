"""The web app's defences: Host check, CSRF, headers, upload limits and parsing, logs."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import threading

import polars as pl
import pytest
from typer.testing import CliRunner

from dpshowcase.web.security import CONTENT_SECURITY_POLICY, Guard, host_allowed

# -- Host header (DNS rebinding) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost", True),
        ("localhost:8765", True),
        ("127.0.0.1:80", True),
        ("[::1]:8765", True),
        ("[::1]", True),
        ("LOCALHOST:8765", True),
        ("evil.example", False),
        ("127.0.0.1.evil.example", False),
        ("localhost.evil.example:8765", False),
        ("localhost:port", False),
        ("[::1]x", False),
        ("", False),
        (None, False),
    ],
)
def test_host_allowed(host, allowed):
    assert host_allowed(host, ("localhost", "127.0.0.1", "::1")) is allowed


def test_foreign_host_is_refused(client):
    refused = client.get("/", headers={"host": "attacker.example"})
    assert refused.status_code == 400
    assert refused.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert client.get("/api/datasets", headers={"host": "rebind.example:8765"}).status_code == 400
    assert client.get("/", headers={"host": "[::1]:8765"}).status_code == 200
    assert client.get("/", headers={"host": "localhost:1234"}).status_code == 200


# -- CSRF ------------------------------------------------------------------------------


def test_state_changing_requests_need_the_token(client, demo_bytes):
    no_token = client.post("/api/datasets", params={"name": "a.csv"}, content=demo_bytes)
    assert no_token.status_code == 403
    wrong = client.post("/api/datasets", content=demo_bytes, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    assert client.delete("/api/datasets/x").status_code == 403
    assert client.put("/api/datasets/x/schema", json={}).status_code == 403
    assert client.send_upload(demo_bytes).status_code == 201


def test_token_belongs_to_the_session(client, demo_bytes):
    other = type(client)(client.app, base_url=str(client.base_url))  # another browser
    assert other.get("/", params={"token": client.app.access_token}).status_code == 200
    stolen = other.post("/api/datasets", content=demo_bytes, headers={"X-CSRF-Token": client.token})
    assert stolen.status_code == 403
    other.cookies.clear()
    no_cookie = other.post(
        "/api/datasets", content=demo_bytes, headers={"X-CSRF-Token": client.token}
    )
    assert no_cookie.status_code == 403


def test_session_cookie_is_strict(make_client):
    client = make_client()
    client.cookies.clear()
    token = client.app.access_token
    access = client.get("/", params={"token": token}, follow_redirects=False)
    assert access.headers["set-cookie"].startswith("dps_access_")
    cookie = client.get("/").headers["set-cookie"]
    assert cookie.startswith("dps_session=")
    for each in (cookie, access.headers["set-cookie"]):
        assert "HttpOnly" in each
        assert "SameSite=Strict" in each


# -- headers ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/api/datasets", "/static/app.css", "/nowhere"])
def test_every_response_has_the_security_headers(client, url):
    response = client.get(url)
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_pages_have_no_inline_script_or_style(client):
    html = client.get("/").text
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", html)
    assert " style=" not in html
    assert "<style" not in html


# -- uploads ---------------------------------------------------------------------------


def _stored(client):
    return sorted(p.name for p in client.app.app.state.ctx.settings.uploads.iterdir())


def test_declared_size_over_the_limit_is_refused(make_client):
    client = make_client(max_upload_bytes=1024)
    response = client.send_upload(b"a,b\n" + b"1,2\n" * 1000)
    assert response.status_code == 413
    assert "limit" in response.text
    assert _stored(client) == []


def test_413_comes_before_the_body_is_read():
    received = []
    reached = []

    async def app(scope, receive, send):
        reached.append(scope["path"])

    async def receive():
        received.append(1)
        return {"type": "http.request", "body": b"x" * 10, "more_body": True}

    sent = []

    async def send(message):
        sent.append(message)

    guard = Guard(
        app,
        allowed_hosts=("127.0.0.1",),
        secret=b"s" * 32,
        access_token="t" * 43,
        upload_paths=("/api/datasets",),
        upload_limit=100,
    )
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/datasets",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"authorization", b"token " + b"t" * 43),
            (b"content-length", str(10**12).encode()),
        ],
    }
    # a thread of its own: another test's event loop may be running in this one
    worker = threading.Thread(target=asyncio.run, args=(guard(scope, receive, send),))
    worker.start()
    worker.join()
    assert sent[0]["status"] == 413
    assert received == []
    assert reached == []


def test_streamed_body_over_the_limit_is_cut_off(make_client):
    client = make_client(max_upload_bytes=4096)

    def chunks():
        yield b"a,b\n"
        for _ in range(200):
            yield b"1,2\n" * 10

    response = client.post(
        "/api/datasets", content=chunks(), headers={"X-CSRF-Token": client.token}
    )
    assert response.status_code == 413
    assert _stored(client) == []


def test_json_bodies_are_small(client, demo_bytes):
    dataset = client.send_upload(demo_bytes).json()
    huge = {"columns": [{"name": "x" * 100}] * 20_000}
    response = client.api("PUT", f"/api/datasets/{dataset['id']}/schema", json=huge)
    assert response.status_code == 413


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\n\n", "empty"),
        ("header.csv", b"a,b\n", "no rows"),
        ("ragged.csv", b"a,b\n1,2\n3\n", "ragged"),
        ("latin1.csv", "a,b\ncafé,1\n".encode("latin-1"), "UTF-8"),
        ("twice.csv", b"a,a\n1,2\n", "twice"),
        ("sheet.xlsx", b"PK\x03\x04rest", "unknown file type"),
        ("fake.parquet", b"a,b\n1,2\n", "not a Parquet"),
        ("broken.parquet", b"PAR1" + b"\x00" * 50, "Parquet"),
        (
            "wide.csv",
            (",".join(f"c{i}" for i in range(61)) + "\n" + "1," * 60 + "1\n").encode(),
            "columns",
        ),
        ("wide.parquet", _parquet(pl.DataFrame({f"c{i}": ["1"] for i in range(61)})), "columns"),
    ],
)
def test_bad_uploads(client, name, content, message):
    response = client.send_upload(content, name=name)
    assert response.status_code in (400, 413), response.text
    detail = response.json()["detail"]
    assert message in detail
    assert str(client.app.app.state.ctx.settings.data_dir) not in detail  # no internal path
    assert _stored(client) == []


def test_too_many_rows(make_client):
    client = make_client(max_rows=100)
    content = b"a,b\n" + b"x,y\n" * 101
    response = client.send_upload(content)
    assert response.status_code == 400
    assert "at most 100" in response.json()["detail"]
    parquet = _parquet(pl.DataFrame({"a": ["x"] * 101}))
    assert client.send_upload(parquet, name="rows.parquet").status_code == 400


def test_client_file_names_never_reach_the_filesystem(client, demo_bytes):
    name = "../../../etc/passwd;rm -rf.csv"
    response = client.send_upload(demo_bytes, name=name)
    assert response.status_code == 201
    assert response.json()["name"] == name
    stored = _stored(client)
    assert len(stored) == 1
    assert re.fullmatch(r"[0-9a-f]{32}\.csv", stored[0])


# -- logs ------------------------------------------------------------------------------


def test_sensitive_values_are_not_logged(client, caplog):
    secret = "Zq7SecretValue"
    rows = "\n".join(f"{secret if i == 0 else 'A'},B{i % 3}" for i in range(50))
    caplog.set_level(logging.DEBUG)
    dataset = client.send_upload(f"col,other\n{rows}\n".encode(), name="s.csv").json()
    client.get(f"/api/datasets/{dataset['id']}/values", params={"column": "col"})
    client.api("POST", f"/api/datasets/{dataset['id']}/risk", json={"reporting_length": 2})
    client.api("PUT", f"/api/datasets/{dataset['id']}/schema", json={"columns": [{"name": "q"}]})
    assert secret not in caplog.text


def test_serve_warns_beyond_loopback_and_turns_access_logs_off(monkeypatch, tmp_path):
    import uvicorn

    from dpshowcase.cli.main import app

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    runner = CliRunner()
    quiet = runner.invoke(app, ["serve", "--data-dir", str(tmp_path / "a"), "--port", "9999"])
    assert quiet.exit_code == 0, quiet.output
    assert "Warning" not in quiet.output
    assert calls[-1]["host"] == "127.0.0.1"
    assert calls[-1]["port"] == 9999
    assert calls[-1]["access_log"] is False
    loud = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path / "b")])
    assert loud.exit_code == 0, loud.output
    assert "Warning" in loud.output
    assert "other machines" in loud.output
