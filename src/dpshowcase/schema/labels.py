"""Combination labels: ``column:value;column:value``, escaped, in natural order.

The written form of attributes and combinations in every table the tool writes and
reads (aggregates.csv, structural zeros in a schema), below every layer that uses it.
"""

from __future__ import annotations

import re

from dpshowcase.errors import InputError

__all__ = ["escape", "natural_key", "split_combination"]

_ESCAPE = re.compile(r"([\\;:])")


def escape(text: str) -> str:
    """Backslash-escape the characters that delimit combinations."""
    return _ESCAPE.sub(r"\\\1", text)


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders ``9--17`` before ``18--20`` and ``2`` before ``10``."""
    parts = re.split(r"(\d+)", text)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p != "")


def split_combination(text: str) -> list[tuple[str, str]]:
    """Parse ``column:value;column:value`` (escaped) back into pairs."""
    pairs = []
    for part in _split_unescaped(text, ";"):
        pieces = _split_unescaped(part, ":")
        if len(pieces) != 2:
            raise InputError(f"{part!r} is not of the form column:value")
        pairs.append((_unescape(pieces[0]), _unescape(pieces[1])))
    return pairs


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)
