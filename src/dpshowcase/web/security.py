"""The defences of a server that a browser talks to, as plain ASGI middleware.

- **Host check** (DNS rebinding): a page on another site that makes its own name point
  at 127.0.0.1 still sends its own name as Host; only loopback names (and an address
  given to ``--host``) are served, anything else gets 400.
- **Body limits**: a declared Content-Length above the limit gets 413 at once, before
  any of the body is read; bodies without one are counted as they stream and cut off
  with 413 at the limit. Uploads have their own, larger limit.
- **CSRF**: a random session cookie (HttpOnly, SameSite=Strict) and a token derived from
  it with a secret kept in the data folder; every state-changing request must carry the
  token in ``X-CSRF-Token`` (pages embed it in a meta tag; another site can read
  neither the cookie nor the page).
- **Headers**: ``Content-Security-Policy: default-src 'self'`` (no inline script or
  style, nothing loaded from elsewhere), no sniffing, no framing, no referrer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "Guard",
    "host_allowed",
    "load_secret",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SESSION_COOKIE = "dps_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_BODY_LIMIT = 1024 * 1024
"""Largest body of a request that is not an upload."""

_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def load_secret(path: Path) -> bytes:
    """The app's CSRF secret, created (readable by the owner only) on first use."""
    if path.is_file() and path.stat().st_size >= 32:
        return path.read_bytes()
    secret = secrets.token_bytes(32)
    path.touch(mode=0o600, exist_ok=True)
    path.write_bytes(secret)
    return secret


def host_allowed(host_header: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether a Host header names an allowed host (any port)."""
    if not host_header:
        return False
    host = host_header.strip().lower()
    if host.startswith("["):  # [::1]:8765
        end = host.find("]")
        if end < 0:
            return False
        name, rest = host[1:end], host[end + 1 :]
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return False
    else:
        name, _, port = host.partition(":")
        if port and not port.isdigit():
            return False
    return name in {a.lower() for a in allowed}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _session_of(scope: Scope) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(raw)
    except Exception:  # a malformed cookie header is no session
        return None
    morsel = cookie.get(SESSION_COOKIE)
    if morsel is None or len(morsel.value) != 43:
        return None
    return morsel.value


class Guard:
    """Host check, body limits, session + CSRF check and security headers in one layer."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: tuple[str, ...],
        secret: bytes,
        upload_paths: tuple[str, ...],
        upload_limit: int,
    ) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.secret = secret
        self.upload_paths = upload_paths
        self.upload_limit = upload_limit

    def token(self, session: str) -> str:
        """The CSRF token of a session."""
        return hmac.new(self.secret, session.encode(), hashlib.sha256).hexdigest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if not host_allowed(_header(scope, b"host"), self.allowed_hosts):
            await _plain(send, 400, "This server answers only to localhost (Host not allowed).")
            return
        if scope["type"] == "websocket":  # the app has none
            await _plain(send, 403, "Not available.")
            return
        path, method = scope["path"], scope["method"]
        limit = self.upload_limit if path in self.upload_paths else JSON_BODY_LIMIT
        length = _header(scope, b"content-length")
        if length is not None:
            if not length.isdigit():
                await _plain(send, 400, "Bad Content-Length.")
                return
            if int(length) > limit:
                await _plain(send, 413, _too_large(limit))
                return
        found = _session_of(scope)
        new_session = found is None
        session = secrets.token_urlsafe(32) if found is None else found
        scope.setdefault("state", {})
        scope["state"]["session"] = session
        scope["state"]["csrf_token"] = self.token(session)
        if method in UNSAFE_METHODS:
            given = _header(scope, CSRF_HEADER.encode()) or ""
            if new_session or not hmac.compare_digest(given, self.token(session)):
                await _plain(
                    send, 403, "Missing or wrong CSRF token; reload the page and try again."
                )
                return
        await self.app(scope, _counting(receive, limit), _with_headers(send, session, new_session))


def _too_large(limit: int) -> str:
    return (
        f"The upload is larger than the limit of {limit / 1024 / 1024:,.0f} MiB; "
        "use a smaller file or start the app with a larger --max-upload-mb."
    )


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, _too_large(limit))
        return message

    return wrapped


def _with_headers(send: Send, session: str, new_session: bool) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (k, v) for k, v in message.get("headers", []) if k.lower() not in dict(_HEADERS)
            ]
            headers.extend(_HEADERS)
            if new_session:
                cookie = f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict"
                headers.append((b"set-cookie", cookie.encode()))
            message["headers"] = headers
        await send(message)

    return wrapped


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
