"""Progress reports: the one callback type of every long step.

A :class:`Progress` is called as ``progress(stage, done, total)``: the name of the step
in words a person reads ("Counting combinations"), and how far it is (``done`` of
``total`` units, any units; ``done == total`` when it is finished). Library functions
that take a long time accept one; adapters turn the calls into bars (the command
line), events (the web app's worker) or nothing.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Progress", "no_progress"]


class Progress(Protocol):
    """``progress(stage, done, total)``: step ``stage`` is ``done`` of ``total`` along."""

    def __call__(self, stage: str, done: float, total: float, /) -> None:
        """Report how far ``stage`` is."""


def no_progress(stage: str, done: float, total: float, /) -> None:
    """A Progress that reports nowhere."""
