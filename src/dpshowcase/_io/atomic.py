"""Writing outputs so that a failure never leaves a half-written file or folder.

Everything is written to a temporary sibling first and renamed into place, which is
atomic on one filesystem: a reader sees the old output or the complete new one.

Three more promises, because outputs are where a careless tool destroys data:

- **One writer at a time.** Writing ``NAME`` holds the lock file ``.NAME.lock`` beside
  it (an exclusive ``flock``, released and removed when done — and by the kernel if the
  process dies). A second run aiming at the same output fails at once with a sentence
  instead of both reporting success. :func:`output_lock` lets a caller hold the lock for
  a whole job (read, protect, write), not just the final rename.
- **Leftovers are cleaned.** A run killed mid-write leaves a hidden ``.NAME.XXXXXXXX.tmp``
  beside the output. Whoever next holds the lock of ``NAME`` knows that no other run is
  writing it, so such leftovers are stale and removed.
- **Only what may be replaced is replaced.** :func:`atomic_directory` replaces an
  existing, non-empty folder only when the caller's ``replaceable`` check accepts it
  (a release replaces only a folder holding its own manifest), never just because
  ``--overwrite`` was given.

A full disk (or quota) while writing is one sentence (InputError), not a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from dpshowcase.errors import InputError

try:  # POSIX; elsewhere the lock is an exclusively created file
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["atomic_directory", "atomic_path", "atomic_write_text", "output_lock"]

_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_held: dict[str, tuple[int, int]] = {}
"""Lock files this process holds: path → (thread id, depth), so a job may nest them."""
_held_guard = threading.Lock()


def _check_parent(path: Path) -> None:
    parent = path.resolve().parent
    if not parent.is_dir():
        raise InputError(f"The folder {parent} does not exist; create it or choose another output.")


def _lock_file(path: Path) -> Path:
    resolved = path.resolve()
    return resolved.parent / f".{resolved.name}.lock"


def _busy(path: Path) -> InputError:
    return InputError(
        f"Another dpshowcase run is writing {path} right now; wait for it to finish or "
        "choose another output."
    )


@contextlib.contextmanager
def output_lock(path: Path) -> Iterator[None]:
    """Hold the lock of output ``path`` for the block; InputError if another run holds it.

    Re-entrant within one thread, so a job may hold it while the writer takes it again.
    On entry, stale temporary leftovers of ``path`` (from a killed run) are removed.
    """
    path = Path(path)
    _check_parent(path)
    lock = _lock_file(path)
    key = str(lock)
    me = threading.get_ident()
    with _held_guard:
        owner = _held.get(key)
        if owner is not None:
            if owner[0] != me:
                raise _busy(path)
            _held[key] = (me, owner[1] + 1)
    if owner is not None:
        try:
            yield
        finally:
            with _held_guard:
                thread, depth = _held[key]
                _held[key] = (thread, depth - 1)
        return

    fd = _acquire(lock, path)
    with _held_guard:
        _held[key] = (me, 1)
    try:
        _remove_leftovers(path)
        yield
    finally:
        with _held_guard:
            del _held[key]
        with contextlib.suppress(OSError):
            lock.unlink()
        os.close(fd)


def _acquire(lock: Path, path: Path) -> int:
    """An open descriptor of ``lock`` holding its exclusive lock."""
    while True:
        try:
            if fcntl is None:  # pragma: no cover - Windows
                return os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except FileExistsError:  # pragma: no cover - Windows
            raise _busy(path) from None
        except OSError as exc:
            raise _write_error(exc, path) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise _busy(path) from None
        # The holder before us may have removed the file between our open and our lock;
        # then we locked an orphan and must lock the file now at that path instead.
        try:
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def _leftover_pattern(name: str) -> re.Pattern[str]:
    # tempfile's random part is 8 characters of [a-z0-9_]
    return re.compile(rf"^\.{re.escape(name)}\.(?:[a-z0-9_]{{8}}\.tmp|old)$")


def _remove_leftovers(path: Path) -> None:
    """Remove ``.NAME.XXXXXXXX.tmp`` and ``.NAME.old`` beside ``path`` (we hold its lock)."""
    resolved = path.resolve()
    pattern = _leftover_pattern(resolved.name)
    with contextlib.suppress(OSError):
        for entry in resolved.parent.iterdir():
            if not pattern.match(entry.name):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _write_error(exc: OSError, path: Path) -> InputError | OSError:
    """A sentence for a full disk or a refused write; other OS errors stay as they are."""
    if exc.errno in _NO_SPACE:
        return InputError(
            f"The disk is full while writing {path}; free some space or choose an output on "
            "another disk. Nothing was written."
        )
    if isinstance(exc, PermissionError):
        return InputError(
            f"dpshowcase may not write {path} (permission denied); choose another output."
        )
    if exc.errno == errno.EROFS:
        return InputError(f"{path} is on a read-only disk; choose another output.")
    return exc


@contextlib.contextmanager
def _sentences(path: Path) -> Iterator[None]:
    """Turn a full disk or a refused write inside the block into a sentence."""
    try:
        yield
    except OSError as exc:
        error = _write_error(exc, path)
        if error is exc:
            raise
        raise error from None


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary file path that becomes ``path`` when the block ends without error."""
    path = Path(path)
    _check_parent(path)
    with output_lock(path), _sentences(path):
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.resolve().parent
        )
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            yield tmp_path
            os.replace(tmp_path, path)
        finally:
            tmp_path.unlink(missing_ok=True)


def _nonempty(path: Path) -> bool:
    return path.exists() and (not path.is_dir() or any(path.iterdir()))


@contextlib.contextmanager
def atomic_directory(
    path: Path,
    *,
    overwrite: bool = False,
    replaceable: Callable[[Path], str | None] | None = None,
) -> Iterator[Path]:
    """A temporary folder that becomes ``path`` when the block ends without error.

    An existing, non-empty ``path`` is replaced only with ``overwrite`` and when
    ``replaceable(path)`` returns None; otherwise the string it returns (or a default)
    is the refusal. Without ``replaceable`` nothing non-empty is ever replaced.
    """
    path = Path(path)
    _check_parent(path)
    with output_lock(path), _sentences(path):
        if _nonempty(path):
            if not overwrite:
                raise InputError(
                    f"The output {path} already exists; choose a new folder or pass --overwrite."
                )
            refusal = (
                replaceable(path)
                if replaceable is not None
                else f"{path} is not an output dpshowcase may replace; choose a new folder."
            )
            if refusal is not None:
                raise InputError(refusal)
        tmp = Path(
            tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.resolve().parent)
        )
        try:
            yield tmp
            if path.exists():
                old = path.with_name(f".{path.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def atomic_write_text(path: Path, text: str) -> None:
    """Write text (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
