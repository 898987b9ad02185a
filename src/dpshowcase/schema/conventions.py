"""How cells are read, shared by schema inference (proposing) and encoding (applying).

Both sides must agree on what looks like an identifier and on how a zero reads as
text, so the rules live here, below both.
"""

from __future__ import annotations

import numpy as np

IDENTIFIER_DISTINCT_SHARE = 0.9
"""A column whose present values are more than this share distinct looks like an identifier."""
IDENTIFIER_MIN_VALUES = 20
"""Columns with fewer present values than this are never called identifiers."""
ZERO_VALUES = ("0", "0.0")
"""How a zero reads as text (a float column of a Parquet file gives ``0.0``)."""


def looks_like_identifier(distinct: int, present: int) -> bool:
    """Nearly every one of enough present values is distinct (text or whole numbers)."""
    return present >= IDENTIFIER_MIN_VALUES and distinct > IDENTIFIER_DISTINCT_SHARE * present


def looks_like_numeric_identifier(values: np.ndarray) -> bool:
    """Whole numbers, nearly all distinct: a phone, case or account number, not a measure.

    Binning would not hide such a column's role: the records it singles out are linkable
    to any other table holding the number. Measurements with decimals are not identifiers.
    """
    finite = values[np.isfinite(values)]
    if finite.size and not bool(np.all(np.floor(finite) == finite)):
        return False
    return looks_like_identifier(int(np.unique(finite).size), int(finite.size))
