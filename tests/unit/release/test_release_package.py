"""Spreadsheet-safe CSV downloads and the release zip."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from dpshowcase.errors import InputError
from dpshowcase.release.package import guard_cell, guarded_csv, write_zip


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\x00x", "'\x00x"),
        ("-3", "-3"),
        ("+1.5", "+1.5"),
        ("-1e5", "-1e5"),
        ("-.5", "-.5"),
        ("0--17", "0--17"),
        ("Female", "Female"),
        ("", ""),
    ],
)
def test_guard_cell(cell, shown):
    assert guard_cell(cell) == shown


def test_guarded_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('=bad,n\n"=1+2",-3\n@x,+1.5\nok,\n', encoding="utf-8")
    text = guarded_csv(path).decode()
    lines = text.splitlines()
    assert lines[0] == "'=bad,n"
    assert lines[1] == "'=1+2,-3"
    assert lines[2] == "'@x,+1.5"
    assert lines[3] == "ok,"
    clean = tmp_path / "clean.csv"
    clean.write_bytes(b"a,b\n1,-2\n")
    assert guarded_csv(clean) == b"a,b\n1,-2\n"


def _bundle(tmp_path, synthetic):
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "synthetic.csv").write_text(synthetic, encoding="utf-8")
    (folder / "aggregates.csv").write_text("combination,length,count\na:x,1,5\n")
    (folder / "parameters.json").write_text("{}")
    (folder / "README.md").write_text("# release\n")
    (folder / "manifest.json").write_text(json.dumps({"files": {"synthetic.csv": {}}}))
    (folder / "cases.csv").write_text("the sensitive input\n")  # must never be packed
    return folder


def test_zip_holds_release_files_only(tmp_path):
    folder = _bundle(tmp_path, "a\nx\n")
    buffer = io.BytesIO()
    names = write_zip(folder, buffer)
    with zipfile.ZipFile(buffer) as archive:
        assert sorted(archive.namelist()) == sorted(f"release/{n}" for n in names)
        assert "release/cases.csv" not in archive.namelist()
        assert json.loads(archive.read("release/manifest.json")) == {"files": {"synthetic.csv": {}}}


def test_zip_guards_csv_and_updates_the_manifest(tmp_path):
    folder = _bundle(tmp_path, "a\n=cmd()\n")
    buffer = io.BytesIO()
    write_zip(folder, buffer)
    with zipfile.ZipFile(buffer) as archive:
        synthetic = archive.read("release/synthetic.csv")
        manifest = json.loads(archive.read("release/manifest.json"))
    assert synthetic == b"a\n'=cmd()\n"
    assert manifest["files"]["synthetic.csv"]["bytes"] == len(synthetic)
    assert "synthetic.csv" in manifest["spreadsheet_guard"]


def test_zip_needs_a_bundle(tmp_path):
    with pytest.raises(InputError, match="no release bundle"):
        write_zip(tmp_path, io.BytesIO())
