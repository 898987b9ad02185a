"""How cells are read, shared by schema inference (proposing) and encoding (applying).

Both sides must agree on what looks like an identifier and on how a zero reads as
text, so the rules live here, below both.
"""

from __future__ import annotations

IDENTIFIER_DISTINCT_SHARE = 0.9
"""A column whose present values are more than this share distinct looks like an identifier."""
IDENTIFIER_MIN_VALUES = 20
"""Columns with fewer present values than this are never called identifiers."""
ZERO_VALUES = ("0", "0.0")
"""How a zero reads as text (a float column of a Parquet file gives ``0.0``)."""
