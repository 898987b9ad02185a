"""The k-anonymity synthesis modes, found by name."""

from __future__ import annotations

from dpshowcase.errors import ParameterError
from dpshowcase.kanon.seeded import RowSeededSynthesizer, ValueSeededSynthesizer
from dpshowcase.kanon.synthesizer import KAnonymousSynthesizer
from dpshowcase.kanon.unseeded import UnseededSynthesizer

SYNTHESIZERS: dict[str, type[KAnonymousSynthesizer]] = {
    cls.name: cls for cls in (RowSeededSynthesizer, ValueSeededSynthesizer, UnseededSynthesizer)
}
"""Modes that synthesize from the sensitive records."""

AGGREGATE_SEEDED = "aggregate-seeded"
MODES = (*SYNTHESIZERS, AGGREGATE_SEEDED)
"""Every mode of a k-anonymous release; the first is the default."""


def check_mode(mode: str) -> None:
    """Refuse an unknown mode, naming the known ones."""
    if mode not in MODES:
        raise ParameterError(f"Unknown mode {mode!r}; choose one of {', '.join(MODES)}.")
