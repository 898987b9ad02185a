"""Writing outputs so that a failure never leaves a half-written file or folder.

Everything is written to a temporary sibling first and renamed into place, which is
atomic on one filesystem: a reader sees the old output or the complete new one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from dpshowcase.errors import InputError


def _check_parent(path: Path) -> None:
    parent = path.resolve().parent
    if not parent.is_dir():
        raise InputError(f"The folder {parent} does not exist; create it or choose another output.")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary file path that becomes ``path`` when the block ends without error."""
    path = Path(path)
    _check_parent(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.resolve().parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_directory(path: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """A temporary folder that becomes ``path`` when the block ends without error."""
    path = Path(path)
    _check_parent(path)
    if path.exists() and not overwrite and (not path.is_dir() or any(path.iterdir())):
        raise InputError(
            f"The output {path} already exists; choose a new folder or pass --overwrite."
        )
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.resolve().parent))
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
