"""The ledger's tables (SQLAlchemy, SQLite): lineages, caps, releases, withdrawals.

Nothing here is ever deleted: a cap change adds a row (with its reason), a release's
entry only moves forward (reserved → committed, or reserved → failed), and a withdrawal
is a keyed hash of an id, never the id itself.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "COMMITTED",
    "DP_KINDS",
    "FAILED",
    "INTERRUPTED",
    "RESERVED",
    "Base",
    "CapEntry",
    "LineageRow",
    "ReleaseEntry",
    "WithdrawalEntry",
]

RESERVED = "reserved"
"""Budget reserved, the release is being made (noise may be drawn)."""
COMMITTED = "committed"
"""The bundle was built and checksummed; it is renamed into place right after."""
FAILED = "failed"
"""The release raised an error after its reservation; the budget still counts."""
INTERRUPTED = "failed (interrupted)"
"""The process that reserved died before committing (found by a later run)."""

DP_KINDS = ("dp",)
"""Kinds whose budget the DP accounting adds up; every other kind is listed outside it."""


class Base(DeclarativeBase):
    """Declarative base of the ledger's tables."""


class LineageRow(Base):
    """A lineage: the data officer's name for "these case records, all versions"."""

    __tablename__ = "lineages"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CapEntry(Base):
    """One setting of a lineage's cap; the newest one is in force."""

    __tablename__ = "caps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lineage: Mapped[str] = mapped_column(ForeignKey("lineages.name"), index=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    epsilon: Mapped[float] = mapped_column(Float)
    delta: Mapped[float | None] = mapped_column(Float, nullable=True)
    """The δ the cap's ε is judged at (None: the sum of the releases' δ)."""
    reason: Mapped[str] = mapped_column(Text)
    tool_version: Mapped[str] = mapped_column(String(40))


class ReleaseEntry(Base):
    """One release of a lineage (DP or not), from its reservation on."""

    __tablename__ = "releases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lineage: Mapped[str] = mapped_column(ForeignKey("lineages.name"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    """"dp", "k-anonymity", "exact" or "dp-seeded" (seeded noise: not DP)."""
    status: Mapped[str] = mapped_column(String(40))
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    """When the budget was reserved."""
    finished: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    tool_version: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(255))
    """The name of the source file (never its content)."""
    output: Mapped[str] = mapped_column(Text)
    """Where the bundle was (to be) written."""
    epsilon: Mapped[float | None] = mapped_column(Float, nullable=True)
    delta: Mapped[float | None] = mapped_column(Float, nullable=True)
    rho: Mapped[float | None] = mapped_column(Float, nullable=True)
    """zCDP of the release, ε_N²/2 of the record count included."""
    delta_conversion: Mapped[float | None] = mapped_column(Float, nullable=True)
    delta_outside: Mapped[float | None] = mapped_column(Float, nullable=True)
    """δ of the single-attribute threshold, outside zCDP."""
    k: Mapped[int | None] = mapped_column(Integer, nullable=True)
    privacy_unit: Mapped[str | None] = mapped_column(String(20), nullable=True)
    record_count_source: Mapped[str | None] = mapped_column(String(60), nullable=True)
    """"protected (ε_N-DP noise)" or "declared public" (DP); "exact" otherwise."""
    checksum: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """SHA-256 of the bundle's manifest.json, which lists the SHA-256 of every other file."""
    withdrawals_through: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    """Every withdrawal recorded up to this moment was honoured by the release."""
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text, default="")
    """Why it failed (the error's class only: messages can quote data values)."""


class WithdrawalEntry(Base):
    """A withdrawn subject (or record) id of a lineage, as a keyed hash."""

    __tablename__ = "withdrawals"
    __table_args__ = (UniqueConstraint("lineage", "id_hash"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lineage: Mapped[str] = mapped_column(ForeignKey("lineages.name"), index=True)
    id_hash: Mapped[str] = mapped_column(String(64))
    """HMAC-SHA256 of the id under the ledger's key, hex."""
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
