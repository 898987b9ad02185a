"""Withdrawn ids as keyed hashes, and dropping them from a release's input.

An id is never stored: the ledger keeps HMAC-SHA256(key, id) only. The key is a random
32-byte file beside the ledger (``<ledger>.key``, readable by its owner only, created on
first use); without it a hash cannot be tested against guessed ids. Ids are compared as
text with surrounding spaces removed (a numeric id 17 and the text "17" are the same).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from dpshowcase.data.load import read_table
from dpshowcase.errors import InputError, ParameterError

__all__ = [
    "hash_ids",
    "ids_from_text",
    "key_path",
    "load_key",
    "read_id_file",
    "without_withdrawn",
]

KEY_BYTES = 32


def key_path(ledger: Path) -> Path:
    """The key file beside ``ledger``."""
    return ledger.with_name(ledger.name + ".key")


def load_key(ledger: Path, *, create: bool) -> bytes | None:
    """The ledger's HMAC key; created (mode 0600) on first use when ``create``."""
    path = key_path(ledger)
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        if not create:
            return None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile
            return load_key(ledger, create=False)
        key = secrets.token_bytes(KEY_BYTES)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        return key
    if len(key) != KEY_BYTES:
        raise InputError(
            f"The ledger key {path} is damaged ({len(key)} bytes, not {KEY_BYTES}); restore it "
            "from a backup, since withdrawals recorded with it cannot be matched without it."
        )
    return key


def _normalise(value: object) -> str:
    return str(value).strip()


def hash_ids(key: bytes, ids: Iterable[object]) -> set[str]:
    """HMAC-SHA256 of each non-empty id (as trimmed text), hex."""
    out = set()
    for value in ids:
        text = _normalise(value)
        if text:
            out.add(hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest())
    return out


def read_id_file(path: Path, column: str | None) -> list[str]:
    """The ids in ``path``: one per line, or the column ``column`` of a table file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"The id file {path} does not exist; give a file of ids.")
    if column is None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"The id file {path} is not UTF-8 text.") from None
        ids = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        frame = read_table(path)
        if column not in frame.columns:
            raise InputError(
                f"The id file {path} has no column {column!r}; its columns are "
                f"{frame.columns[:10]}."
            )
        ids = [_normalise(v) for v in frame.get_column(column).drop_nulls().to_list()]
        ids = [v for v in ids if v]
    if not ids:
        raise InputError(f"The id file {path} holds no ids; nothing was recorded.")
    return ids


def ids_from_text(text: str, column: str | None) -> list[str]:
    """The ids in uploaded text: one per line, or the column ``column`` of a CSV/TSV."""
    if column is None:
        ids = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        first = text.split("\n", 1)[0]
        separator = "\t" if first.count("\t") > first.count(",") else ","
        try:
            frame = pl.read_csv(
                io.StringIO(text), separator=separator, infer_schema=False
            )
        except pl.exceptions.PolarsError:
            raise InputError("The id list is not a readable CSV or TSV table.") from None
        if column not in frame.columns:
            raise InputError(
                f"The id list has no column {column!r}; its columns are {frame.columns[:10]}."
            )
        ids = [v.strip() for v in frame.get_column(column).drop_nulls().to_list() if v.strip()]
    if not ids:
        raise InputError("The id list holds no ids; nothing was recorded.")
    return ids


def without_withdrawn(
    frame: pl.DataFrame, column: str, key: bytes, withdrawn: set[str]
) -> pl.DataFrame:
    """``frame`` without the rows whose ``column`` hashes into ``withdrawn``.

    Every row of a withdrawn subject goes, so nothing of theirs reaches the counting.
    """
    if column not in frame.columns:
        raise ParameterError(
            f"The id column {column!r} is not in the data, so withdrawals cannot be honoured; "
            "name the column holding the subject ids (--id-column, or subject_id in the schema)."
        )
    if not withdrawn:
        return frame
    values = frame.get_column(column).cast(pl.String).to_list()
    hashes = [
        hmac.new(key, _normalise(v).encode("utf-8"), hashlib.sha256).hexdigest()
        if v is not None
        else ""
        for v in values
    ]
    keep = pl.Series([h not in withdrawn for h in hashes], dtype=pl.Boolean)
    return frame.filter(keep)
