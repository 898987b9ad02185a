"""Fixtures shared by the whole test suite.

Test data lives in ``tests/data`` (see its PROVENANCE.md), so no test needs anything
outside the repository. A test that still cannot find a file it needs skips on a
developer's machine but fails when ``CI`` is set (``.ci/run`` sets it): in CI a missing
file is a broken checkout, not a reason to test less.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = REPO_ROOT / "tests" / "data"
NIST_ACS = TEST_DATA / "nist-acs"


def running_in_ci() -> bool:
    """True when the ``CI`` environment variable is set to a true value (1, true, yes)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_data(*paths: Path) -> None:
    """Skip the calling test when a data file is missing, or fail it in CI."""
    missing = [str(path) for path in paths if not path.exists()]
    if not missing:
        return
    message = f"test data not found: {', '.join(missing)}"
    if running_in_ci():
        pytest.fail(f"{message} (CI is set, so missing data fails instead of skipping)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The project's root folder (holding pyproject.toml)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def require_test_data() -> Callable[..., None]:
    """:func:`require_data`, for tests that look for their own files."""
    return require_data


@pytest.fixture(scope="session")
def nist_acs() -> Path:
    """``tests/data/nist-acs``: NIST's ma2019 excerpt and a pac-synth output scored by NIST."""
    require_data(
        NIST_ACS / "ma2019.csv",
        NIST_ACS / "crc_pacsynth" / "pac_synth_e_1_industry_ma2019.csv",
    )
    return NIST_ACS


# The value vocabulary of CTDC's victim-perpetrator synthetic file, column by column
# ('' is a blank cell; ';' joins the values of a multi-valued cell). CTDC's terms do not
# allow redistributing the file itself, so tests generate a table of the same layout.
_CTDC_COLUMNS: dict[str, list[str]] = {
    "yearRegister": ["2014-2018", "2021-2022", "", "2005-2013", "2019", "2020"],
    "gender": ["Female", "Male", ""],
    "majorityStatus": ["Adult", "", "Minor"],
    "isForcedLabour": ["1", ""],
    "isSexualExploit": ["", "1"],
    "UN_COO_Region": ["Asia", "Europe", "Africa", "", "Americas/Oceania"],
    "UN_COE_Region": ["Europe", "Asia", "Africa", "", "Americas/Oceania"],
    "IP_Exploiter": ["", "1"],
    "IP_Gender": ["Male", "", "Female", "Female;Male"],
    "IP_ageBroad": ["", "39--47", "30--38", "48+", "0--29", "30--38;39--47"],
    "IP_citizen_UNRegion": ["", "Asia", "Europe", "Africa", "Africa;Asia", "Asia;Europe"],
    "IP_Relation": [
        "StrangerUnknownOther",
        "",
        "FriendAcquaintance",
        "FamilyIntimatePartner",
        "FriendAcquaintance;StrangerUnknownOther",
    ],
    "IP_PayMoney": ["No", "", "Yes", "No;Yes"],
    "IP_RecruiterBroker": ["1", ""],
    "IP_TransactionProcess": ["", "1"],
    "IP_ControlAbuseKidnap": ["", "1"],
}


@pytest.fixture(scope="session")
def ctdc_like_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-row CSV with the columns and values of CTDC's public synthetic file."""
    rng = np.random.default_rng(20261203)
    frame = pl.DataFrame(
        {
            name: [values[i] or None for i in rng.integers(0, len(values), 2_000)]
            for name, values in _CTDC_COLUMNS.items()
        },
        schema=dict.fromkeys(_CTDC_COLUMNS, pl.String),
    )
    path = tmp_path_factory.mktemp("ctdc") / "CTDC_VPsynthetic_condensed.csv"
    frame.write_csv(path)
    return path
