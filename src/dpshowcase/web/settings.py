"""The settings of one web app instance: where state lives and the limits it enforces."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_data_dir

from dpshowcase.errors import ParameterError
from dpshowcase.web.datafolder import DATABASE_NAME

__all__ = ["LOOPBACK_HOSTS", "WebSettings", "default_data_dir", "new_access_token"]

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
"""Host names the app answers to (with any port): anything else may be DNS rebinding."""


def default_data_dir() -> Path:
    """The user's data folder for dpshowcase (e.g. ~/.local/share/dpshowcase)."""
    return Path(user_data_dir("dpshowcase", appauthor=False))


def new_access_token() -> str:
    """A fresh random access token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """Where the app keeps its state and the caps on what it accepts."""

    data_dir: Path = field(default_factory=default_data_dir)
    """Folder for the database, uploads and release bundles (created if missing)."""
    max_upload_bytes: int = 256 * 1024 * 1024
    """Largest upload accepted; larger ones get HTTP 413 before their body is read."""
    max_rows: int = 2_000_000
    """Most rows an uploaded table may have."""
    max_columns: int = 500
    """Most columns an uploaded table may have."""
    max_cell_bytes: int = 128 * 1024
    """Longest cell (in UTF-8 bytes) an uploaded table may hold."""
    max_table_bytes: int = 2 * 1024 * 1024 * 1024
    """Most memory an uploaded table may take once decoded (its cells' bytes plus 16 per
    cell): a small compressed Parquet file can decode to gigabytes."""
    max_reporting_length: int = 5
    """Longest reporting length R a run may ask for."""
    max_concurrent_jobs: int = 1
    """Releases computed at the same time (more wait in a queue)."""
    extra_hosts: tuple[str, ...] = ()
    """Host names accepted besides loopback (the address given to --host)."""
    ledger: Path | None = None
    """The privacy ledger (None: ledger.sqlite3 in ``data_dir``, which by default is the
    file the command line uses too)."""
    access_token: str = field(default_factory=new_access_token, repr=False)
    """The secret every request must carry (a new one each time the app starts)."""

    def __post_init__(self) -> None:
        """Check the limits."""
        object.__setattr__(self, "data_dir", Path(self.data_dir).expanduser())
        if self.ledger is not None:
            object.__setattr__(self, "ledger", Path(self.ledger).expanduser())
        for name in (
            "max_upload_bytes",
            "max_rows",
            "max_columns",
            "max_cell_bytes",
            "max_table_bytes",
            "max_concurrent_jobs",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name} must be a whole number ≥ 1, not {value!r}.")
        if len(self.access_token) < 32:
            raise ParameterError("The access token must be at least 32 characters long.")
        if not 1 <= self.max_reporting_length <= 10:
            raise ParameterError(
                f"max_reporting_length must be between 1 and 10, not {self.max_reporting_length}."
            )

    @property
    def database(self) -> Path:
        """The SQLite file."""
        return self.data_dir / DATABASE_NAME

    @property
    def ledger_path(self) -> Path:
        """The privacy ledger's file."""
        return self.ledger if self.ledger is not None else self.data_dir / "ledger.sqlite3"

    @property
    def uploads(self) -> Path:
        """Uploaded (sensitive) files, under generated names."""
        return self.data_dir / "uploads"

    @property
    def runs(self) -> Path:
        """One folder per run, holding its release bundle."""
        return self.data_dir / "runs"

    @property
    def allowed_hosts(self) -> tuple[str, ...]:
        """Every host name the app answers to."""
        return (*LOOPBACK_HOSTS, *self.extra_hosts)
