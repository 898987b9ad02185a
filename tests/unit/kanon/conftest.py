"""Fixtures of the k-anonymity unit tests (helpers live in kanon_helpers.py)."""

from __future__ import annotations

import pytest
from kanon_helpers import CASES_SCHEMA, cases_frame

from dpshowcase.data.encode import SensitiveData, encode


@pytest.fixture(scope="module")
def cases() -> SensitiveData:
    """400 encoded case-like records."""
    return encode(cases_frame(), CASES_SCHEMA)
