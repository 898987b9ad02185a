"""Handing a release bundle out: CSV files safe to open in a spreadsheet, and a zip.

Every CSV of a bundle is written guarded against spreadsheet formulas (see
:mod:`dpshowcase._io.csv_guard`; the manifest says so under ``spreadsheet_guard``), so its
bytes are handed out as they are. A bundle written before the guard existed is guarded
on the way out instead.

:func:`write_zip` packs the files of a bundle, and only those: it takes names from a
fixed list, never walks the folder, so nothing else that happens to lie there (least of
all sensitive input) can end up in the archive. When a CSV had to be changed, the
manifest inside the zip is updated to describe the files as shipped.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import polars as pl

from dpshowcase._io.csv_guard import guard_cell, guard_frame
from dpshowcase.errors import InputError
from dpshowcase.release.bundle import BUNDLE_FILES, MANIFEST_JSON, NOISY_AGGREGATES_CSV

__all__ = ["RELEASE_FILES", "guard_cell", "guarded_csv", "write_zip"]

RELEASE_FILES: tuple[str, ...] = (
    *BUNDLE_FILES,
    NOISY_AGGREGATES_CSV,
    "report.html",
    "metrics.json",
)
"""Files a bundle may hold (the last two once evaluation writes them)."""


def _written_guarded(bundle: Path) -> bool:
    """The bundle's manifest says its CSV files were written guarded."""
    try:
        manifest = json.loads((bundle / MANIFEST_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "spreadsheet_guard" in manifest


def guarded_csv(path: Path) -> bytes:
    """The CSV file at ``path`` as bytes, with formula-like cells neutralised.

    The file's bytes are returned unchanged when its bundle was written guarded or when
    no cell needs the guard.
    """
    raw = Path(path).read_bytes()
    if _written_guarded(Path(path).parent):
        return raw
    try:
        frame = pl.read_csv(io.BytesIO(raw), infer_schema=False)
    except pl.exceptions.NoDataError:
        return raw
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"{Path(path).name} is not a readable CSV file ({exc}).") from None
    guarded = guard_frame(frame)
    if guarded.columns == frame.columns and guarded.equals(frame, null_equal=True):
        return raw
    return guarded.write_csv().encode("utf-8")


def write_zip(bundle: Path, target: BinaryIO, *, folder: str = "release") -> list[str]:
    """Write the bundle's release files into a zip on ``target``; return their names.

    Files are stored under ``folder/`` in the archive. CSV files are guarded (see
    :func:`guarded_csv`) and the manifest follows them.
    """
    bundle = Path(bundle)
    present = [name for name in RELEASE_FILES if (bundle / name).is_file()]
    if MANIFEST_JSON not in present:
        raise InputError(f"{bundle} holds no release bundle (no {MANIFEST_JSON}).")
    contents: dict[str, bytes] = {}
    for name in present:
        if name == MANIFEST_JSON:
            continue
        path = bundle / name
        contents[name] = guarded_csv(path) if name.endswith(".csv") else path.read_bytes()
    manifest = (bundle / MANIFEST_JSON).read_bytes()
    contents[MANIFEST_JSON] = _updated_manifest(manifest, bundle, contents)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in present:
            archive.writestr(f"{folder}/{name}", contents[name])
    return present


def _updated_manifest(manifest: bytes, bundle: Path, contents: dict[str, bytes]) -> bytes:
    data = json.loads(manifest)
    files = data.get("files", {})
    changed = _changed(bundle, contents.items())
    if not changed:
        return manifest
    for name in changed:
        files[name] = {
            "sha256": hashlib.sha256(contents[name]).hexdigest(),
            "bytes": len(contents[name]),
        }
    data["files"] = files
    data["spreadsheet_guard"] = (
        "Cells that a spreadsheet would run as a formula start with ' in: " + ", ".join(changed)
    )
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _changed(bundle: Path, contents: Iterable[tuple[str, bytes]]) -> list[str]:
    return [
        name
        for name, data in contents
        if name.endswith(".csv") and data != (bundle / name).read_bytes()
    ]
