"""The app's data folder: private to its owner, and used by one server at a time.

The folder holds uploaded sensitive files, the database that describes them and the
release bundles. On a machine with other users none of it may be readable by them:
folders are made ``0700`` and files ``0600`` — the ones created from now on (files are
opened with that mode) and the ones an older version left with wider modes.

Two servers on one folder would fight over its state: the second one, at start, would
take the first one's running jobs for interrupted ones, mark them failed and delete
their output. :class:`DataFolderLock` is an exclusive ``flock`` on a lock file inside
the folder, held for the server's life (the kernel drops it when the process ends, so
a killed server leaves no stale lock).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from pathlib import Path
from typing import IO

from dpshowcase.errors import ParameterError

__all__ = [
    "DISK_FULL",
    "FILE_MODE",
    "FOLDER_MODE",
    "DataFolderInUseError",
    "DataFolderLock",
    "check_data_folder",
    "is_disk_full",
    "make_private",
    "open_private",
    "write_private",
]

FOLDER_MODE = 0o700
FILE_MODE = 0o600
LOCK_NAME = ".lock"


DISK_FULL = (
    "The disk that holds the app's data folder is full; free some space (or delete old "
    "datasets and releases) and try again."
)


def is_disk_full(exc: BaseException) -> bool:
    """Whether an error means that the disk (or the user's quota) is full."""
    full = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
    if isinstance(exc, OSError):
        return exc.errno in full
    # SQLite's own words, through whatever wrapper (sqlalchemy) carries them
    return "database or disk is full" in str(exc)


class DataFolderInUseError(ParameterError):
    """Another server holds the data folder."""


DATABASE_NAME = "dpshowcase.sqlite3"
LEDGER_NAME = "ledger.sqlite3"
"""The privacy ledger, shared with the command line (see :mod:`dpshowcase.ledger`)."""
OWN_FILES = frozenset(
    {
        LOCK_NAME,
        "secret",
        *(
            name + end
            for name in (DATABASE_NAME, LEDGER_NAME)
            for end in ("", "-journal", "-wal", "-shm")
        ),
        LEDGER_NAME + ".key",  # the ledger's HMAC key for withdrawn ids (0600)
    }
)
OWN_FOLDERS = frozenset({"uploads", "runs"})
"""What the app keeps in its data folder; anything else there is not the app's to change."""


def check_data_folder(folder: Path) -> None:
    """Refuse a folder that is not (yet) a data folder of the app and holds other things.

    The app makes its data folder private and deletes stray files in it: pointed at a
    folder of other files (``--data-dir ~``) it must touch none of them.
    """
    if not folder.exists():
        return
    if not folder.is_dir():
        raise ParameterError(f"The data folder {folder} is a file; give a folder.")
    if hasattr(os, "getuid") and folder.stat().st_uid != os.getuid():
        # its owner could read everything the app keeps there, whatever the modes
        raise ParameterError(
            f"The data folder {folder} belongs to another user; give a folder of your own "
            "as --data-dir."
        )
    if (folder / DATABASE_NAME).is_file():
        return
    foreign = sorted(p.name for p in folder.iterdir() if p.name not in OWN_FILES | OWN_FOLDERS)
    if foreign:
        raise ParameterError(
            f"The folder {folder} holds other files ({foreign[0]!r}"
            f"{f' and {len(foreign) - 1:,} more' if len(foreign) > 1 else ''}); give a new or "
            "empty folder as --data-dir, or the folder of an earlier dpshowcase serve."
        )


def make_private(folder: Path) -> None:
    """Create ``folder`` if missing; make it and the app's things in it owner-only.

    Only what the app keeps there is changed (its files, and everything under its
    folders); symbolic links are neither followed nor changed (the app makes none).
    """
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    _chmod(folder, FOLDER_MODE)
    for name in OWN_FILES:
        _chmod(folder / name, FILE_MODE)
    for name in OWN_FOLDERS:
        top = folder / name
        if top.is_symlink() or not top.is_dir():
            continue
        _chmod(top, FOLDER_MODE)
        for root, dirs, files in os.walk(top):
            for entry in dirs:
                _chmod(Path(root) / entry, FOLDER_MODE)
            for entry in files:
                _chmod(Path(root) / entry, FILE_MODE)


def _chmod(path: Path, mode: int) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:  # removed meanwhile (a job finishing)
        return
    if stat.S_ISLNK(info.st_mode) or stat.S_IMODE(info.st_mode) == mode:
        return
    with contextlib.suppress(FileNotFoundError):
        path.chmod(mode)


def open_private(path: Path, mode: str = "wb") -> IO[bytes]:
    """Open a new or truncated file for writing, readable by its owner only.

    ``os.open`` with an explicit mode, so the file is never readable by others,
    whatever the process's umask, not even for a moment.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags, FILE_MODE)
    _chmod(path, FILE_MODE)  # an existing file keeps its mode through os.open
    return os.fdopen(descriptor, mode)


def write_private(path: Path, data: bytes) -> None:
    """Write a whole file, readable by its owner only."""
    with open_private(path) as out:
        out.write(data)


class DataFolderLock:
    """An exclusive lock on a data folder, held until :meth:`release` or process end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._descriptor: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`DataFolderInUseError` with a sentence."""
        path = self.folder / LOCK_NAME
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_pid(descriptor)
            os.close(descriptor)
            by = f" (process {holder})" if holder else ""
            raise DataFolderInUseError(
                f"Another dpshowcase serve{by} is already using the data folder {self.folder}; "
                "open that one, stop it first, or start this one with another --data-dir."
            ) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        self._descriptor = descriptor

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._descriptor is not None

    def release(self) -> None:
        """Let another server use the folder (idempotent)."""
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the descriptor drops the flock
            self._descriptor = None


def _read_pid(descriptor: int) -> str:
    try:
        text = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""
