"""Missing test data skips on a developer's machine and fails in CI; none is missing."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes"])
def test_missing_data_fails_when_ci_is_set(require_test_data, monkeypatch, tmp_path, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        require_test_data(tmp_path / "absent.csv")


@pytest.mark.parametrize("value", [None, "", "0", "false"])
def test_missing_data_skips_outside_ci(require_test_data, monkeypatch, tmp_path, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match=r"absent\.csv"):
        require_test_data(tmp_path / "absent.csv")


def test_the_bundled_data_is_all_there(require_test_data, nist_acs: Path):
    require_test_data(nist_acs / "ma2019.csv", nist_acs / "data_dictionary.json")
    assert (nist_acs.parent / "PROVENANCE.md").is_file()
    total = sum(p.stat().st_size for p in nist_acs.parent.rglob("*") if p.is_file())
    assert total < 5_000_000, "tests/data holds only the few files the tests need"
