"""Fixtures shared by the whole test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The project's root folder (holding pyproject.toml)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def ctdc_csv(repo_root: Path) -> Path:
    """The public CTDC synthetic file in ../shared/data, or skip when it is absent."""
    path = repo_root.parent / "shared" / "data" / "ctdc" / "CTDC_VPsynthetic_condensed.csv"
    if not path.is_file():
        pytest.skip(f"{path} is not available on this machine")
    return path
