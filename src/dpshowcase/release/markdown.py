"""Putting text from the data (column names, values, file names) into Markdown safely.

The datasheet is Markdown that people render (GitHub, GitLab, a CommonMark viewer). A
column named ``<script>…</script>`` or a value ``<img src=x onerror=…>`` must show as
that text, never become HTML, a link, emphasis or a broken table. Two forms:

- :func:`code_span` — the text in a code span, which CommonMark never reads as HTML or
  Markdown; the fence is longer than any run of backticks in the text;
- :func:`plain` — the text as ordinary words: ``&``, ``<`` and ``>`` become entities and
  every other Markdown punctuation is backslash-escaped.

Both show control characters (a line break in a value would end a table row) as their
visible Unicode pictures (U+2400 …). :func:`plain` is safe inside a table cell as it is;
a code span in a table cell needs its ``|`` escaped (GFM unescapes it inside the span).
"""

from __future__ import annotations

import re

__all__ = ["code_span", "plain"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ESCAPED = set("\\`*_{}[]()#+-.!|~\"'")


def _visible(text: str) -> str:
    """Control characters as their Unicode pictures (␊ for a line feed)."""
    return _CONTROL.sub(
        lambda m: chr(0x2421 if m.group() == "\x7f" else 0x2400 + ord(m.group())), text
    )


def code_span(text: str) -> str:
    """``text`` as a Markdown code span (in a table cell, escape its ``|`` as ``\\|``)."""
    text = _visible(text)
    if not text:
        return "(empty)"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text[0] in "` " or text[-1] in "` ":
        text = f" {text} "  # CommonMark strips one space on each side
    return f"{fence}{text}{fence}"


def plain(text: str) -> str:
    """``text`` as plain Markdown words: no HTML, no formatting, safe in a table cell."""
    out = []
    for char in _visible(text):
        if char in _ENTITIES:
            out.append(_ENTITIES[char])
        elif char in _ESCAPED:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)
