"""The README's Python examples run as written, against the public API only.

Every ```python block of README.md is executed, in order and in one namespace (later
blocks use what earlier ones made), in a temporary folder holding what the examples
read: ``cases.csv`` and ``schema.toml`` as ``make demo`` makes them (2,000 records
here, to stay quick) and a release bundle written by ``dpshowcase release``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dpshowcase
from dpshowcase.cli.main import app

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _blocks() -> list[str]:
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def _cli(*args: str) -> None:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output


@pytest.fixture
def demo_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    _cli("demo-data", "--rows", "2000", "--seed", "3", "--output", "cases.csv")
    _cli("schema", "infer", "cases.csv", "--output", "schema.toml")
    _cli(
        "release", "cases.csv", "--schema", "schema.toml", "--epsilon", "4",
        "--seed", "3", "--output", "release",
    )  # fmt: skip
    return tmp_path


def test_the_readme_has_python_examples():
    assert len(_blocks()) >= 3


def test_the_examples_import_only_the_public_api():
    for block in _blocks():
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dpshowcase"):
                assert node.module == "dpshowcase", f"README imports from {node.module}"
                for alias in node.names:
                    assert alias.name in dpshowcase.__all__, alias.name


@pytest.mark.slow
def test_the_examples_run(demo_folder: Path):
    namespace: dict[str, object] = {"__name__": "readme"}
    for number, block in enumerate(_blocks(), start=1):
        exec(compile(block, f"README.md python block {number}", "exec"), namespace)
    synthetic = namespace["synthetic"]
    assert synthetic.height > 0  # type: ignore[attr-defined]
    assert (demo_folder / "out" / "report.html").is_file()
    assert (demo_folder / "out" / "metrics.json").is_file()
