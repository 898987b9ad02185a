"""The defences of a server that a browser talks to, as plain ASGI middleware.

- **Host check** (DNS rebinding): a page on another site that makes its own name point
  at 127.0.0.1 still sends its own name as Host; only loopback names (and an address
  given to ``--host``) are served, anything else gets 400.
- **Access token** (other users of the machine): the app belongs to the person who
  started it. ``dpshowcase serve`` prints an address carrying a random token; every
  request — pages, API, static files, downloads — must carry that token, or gets 403.
  It comes once as ``?token=…`` (answered with an HttpOnly, SameSite=Strict cookie and
  a redirect to the same address without it), then in that cookie; scripts may send
  ``Authorization: token …`` instead. Tokens are compared in constant time.
- **Body limits**: a declared Content-Length above the limit gets 413 at once, before
  any of the body is read; bodies without one are counted as they stream and cut off
  with 413 at the limit. Uploads have their own, larger limit.
- **CSRF**: a random session cookie (HttpOnly, SameSite=Strict) and a token derived from
  it with a secret kept in the data folder; every state-changing request must carry the
  token in ``X-CSRF-Token`` (pages embed it in a meta tag; another site can read
  neither the cookie nor the page).
- **Origin check** (second defence against cross-site requests): a state-changing
  request whose ``Origin`` is another origin (or ``null``), or whose ``Sec-Fetch-Site``
  says it comes from another site, gets 403.
- **Headers**: ``Content-Security-Policy: default-src 'self'`` (no inline script or
  style, nothing loaded from elsewhere), no sniffing, no framing, no referrer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from starlette.exceptions import HTTPException

from dpshowcase.web.datafolder import write_private

__all__ = [
    "ACCESS_COOKIE",
    "CONTENT_SECURITY_POLICY",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "Guard",
    "cross_origin",
    "host_allowed",
    "load_secret",
    "without_token",
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
ACCESS_COOKIE = "dps_access"
"""Prefix of the access cookie's name; the name ends with the port, so that two apps on
one host (cookies ignore ports) do not overwrite each other's."""
TOKEN_PARAMETER = "token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NO_ACCESS = (
    "This dpshowcase app is private to the person who started it: open the address "
    "with ?token=... that 'dpshowcase serve' printed."
)
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
    write_private(path, secret)
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


def _cookies(scope: Scope) -> dict[str, str]:
    """The request's cookies (a lenient parse: one odd cookie of another app on the
    same host must not hide ours)."""
    found: dict[str, str] = {}
    for raw in (v for k, v in scope.get("headers", ()) if k == b"cookie"):
        for part in raw.decode("latin-1").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name and name not in found:
                found[name] = value.strip().strip('"')
    return found


def _session_of(cookies: dict[str, str]) -> str | None:
    value = cookies.get(SESSION_COOKIE)
    if value is None or len(value) != 43:
        return None
    return value


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison (bytes: compare_digest refuses non-ASCII text)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def _port_of(host_header: str | None, scheme: str) -> str:
    host = (host_header or "").strip()
    name_end = host.rfind("]") if host.startswith("[") else -1
    _, sep, port = host[name_end + 1 :].rpartition(":")
    if sep and port.isdigit():
        return port
    return "443" if scheme == "https" else "80"


def _normal_origin(scheme: str, netloc: str) -> str:
    netloc = netloc.lower()
    default = {"http": ":80", "https": ":443"}.get(scheme, "")
    if default and netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return f"{scheme}://{netloc}"


def cross_origin(scope: Scope) -> bool:
    """Whether a request says it comes from another origin (Origin, Sec-Fetch-Site).

    A request without either header (a script, an old browser) is not refused here: the
    access token and the CSRF token still apply.
    """
    site = _header(scope, b"sec-fetch-site")
    if site is not None and site.strip().lower() not in ("same-origin", "none"):
        return True
    origin = _header(scope, b"origin")
    if origin is None:
        return False
    origin = origin.strip()
    if origin.lower() == "null":
        return True
    parts = urlsplit(origin)
    scheme = scope.get("scheme", "http")
    own = _normal_origin(scheme, _header(scope, b"host") or "")
    return _normal_origin(parts.scheme.lower(), parts.netloc) != own


class Guard:
    """Host check, access token, body limits, session + CSRF + Origin checks and security
    headers in one layer."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: tuple[str, ...],
        secret: bytes,
        access_token: str,
        upload_paths: tuple[str, ...],
        upload_limit: int,
    ) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.secret = secret
        self.access_token = access_token
        self.upload_paths = upload_paths
        self.upload_limit = upload_limit

    def token(self, session: str) -> str:
        """The CSRF token of a session."""
        return hmac.new(self.secret, session.encode(), hashlib.sha256).hexdigest()

    def _access(self, scope: Scope, cookies: dict[str, str]) -> str:
        """How the request proves it may use the app: "query", "granted" or "" (no)."""
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), True)
        given = [v for k, v in query if k == TOKEN_PARAMETER]
        if given:
            return "query" if all(_same(v, self.access_token) for v in given) else ""
        authorization = _header(scope, b"authorization")
        if authorization is not None:
            kind, _, value = authorization.strip().partition(" ")
            ok = kind.lower() in ("token", "bearer") and _same(value.strip(), self.access_token)
            return "granted" if ok else ""
        ours = [v for k, v in cookies.items() if k.startswith(ACCESS_COOKIE)]
        return "granted" if any(_same(v, self.access_token) for v in ours) else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        access = self._access(scope, cookies)
        limit = self.upload_limit if scope.get("path") in self.upload_paths else JSON_BODY_LIMIT
        refusal = self._refusal(scope, access, limit)
        if refusal is not None:
            await _plain(send, *refusal)
            return
        access_cookie = (
            f"{ACCESS_COOKIE}_{_port_of(_header(scope, b'host'), scope.get('scheme', 'http'))}="
            f"{self.access_token}; Path=/; HttpOnly; SameSite=Strict"
        )
        if access == "query" and scope["method"] in ("GET", "HEAD"):
            await _redirect(send, without_token(scope), access_cookie)
            return
        found = _session_of(cookies)
        session = secrets.token_urlsafe(32) if found is None else found
        scope.setdefault("state", {})
        scope["state"]["session"] = session
        scope["state"]["csrf_token"] = self.token(session)
        if scope["method"] in UNSAFE_METHODS:
            refusal = self._forged(scope, session if found is not None else None)
            if refusal is not None:
                await _plain(send, *refusal)
                return
        cookie_headers = []
        if found is None:
            cookie_headers.append(f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict")
        if access == "query":
            cookie_headers.append(access_cookie)
        await self.app(scope, _counting(receive, limit), _with_headers(send, cookie_headers))

    def _refusal(self, scope: Scope, access: str, limit: int) -> tuple[int, str] | None:
        """Why a request is refused before anything else (status, text), or None."""
        if not host_allowed(_header(scope, b"host"), self.allowed_hosts):
            return 400, "This server answers only to localhost (Host not allowed)."
        if scope["type"] == "websocket":  # the app has none
            return 403, "Not available."
        if not access:
            return 403, NO_ACCESS
        length = _header(scope, b"content-length")
        if length is not None and not length.isdigit():
            return 400, "Bad Content-Length."
        if length is not None and int(length) > limit:
            return 413, _too_large(limit)
        return None

    def _forged(self, scope: Scope, session: str | None) -> tuple[int, str] | None:
        """Why a state-changing request may come from another site (status, text), or None.

        ``session`` is None when the request brought no session cookie.
        """
        if cross_origin(scope):
            return 403, "Requests from another site are refused."
        given = _header(scope, CSRF_HEADER.encode()) or ""
        if session is None or not _same(given, self.token(session)):
            return 403, "Missing or wrong CSRF token; reload the page and try again."
        return None


def without_token(scope: Scope) -> str:
    """The request's own address without the token parameter (a path, never another host)."""
    path = "/" + str(scope["path"]).lstrip("/")  # "//host" would leave the site
    query = [
        (k, v)
        for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"), True)
        if k != TOKEN_PARAMETER
    ]
    location = quote(path, safe="/:@!$&'()*+,;=-._~")
    return f"{location}?{urlencode(query)}" if query else location


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


def _with_headers(send: Send, cookies: list[str]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (k, v) for k, v in message.get("headers", []) if k.lower() not in dict(_HEADERS)
            ]
            headers.extend(_HEADERS)
            headers.extend((b"set-cookie", cookie.encode()) for cookie in cookies)
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


async def _redirect(send: Send, location: str, cookie: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1")),
                (b"content-length", b"0"),
                (b"cache-control", b"no-store"),
                (b"set-cookie", cookie.encode()),
                *_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
