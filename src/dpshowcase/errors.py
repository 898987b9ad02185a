"""Errors raised by dpshowcase.

The hierarchy is small on purpose: every error a person can cause and fix is a
``DpShowcaseError`` with a message written for that person (what is wrong, what to
do). The command line catches ``DpShowcaseError``, prints its message on one line and
exits non-zero; anything else is a bug and keeps its traceback.

    DpShowcaseError
    ├── InputError (ValueError)          a data file that cannot be used as it is
    ├── SchemaError (ValueError)         a schema that does not fit the data or is malformed
    ├── ParameterError (ValueError)      an absurd or inconsistent parameter
    │   └── InsufficientBudgetError      a privacy budget too small for what was asked
    └── GuaranteeError                   a release failed its own privacy check
    InternalError (RuntimeError)         a bug in dpshowcase, not the user's fault
"""

from __future__ import annotations


class DpShowcaseError(Exception):
    """Base of every error a user can cause and fix; its message is for people."""


class InputError(DpShowcaseError, ValueError):
    """A data file is empty, malformed, wrongly encoded or otherwise unusable."""


class SchemaError(DpShowcaseError, ValueError):
    """A schema is malformed or does not match the data it describes."""


class ParameterError(DpShowcaseError, ValueError):
    """A parameter is out of range or inconsistent with the others."""


class InsufficientBudgetError(ParameterError):
    """The privacy budget cannot pay for what was asked."""

    def __init__(self, what: str, asked: float, available: float) -> None:
        self.asked = asked
        self.available = available
        super().__init__(
            f"{what} needs a privacy budget of {asked:.6g} but only {available:.6g} is "
            "available; raise epsilon or ask for less."
        )


class GuaranteeError(DpShowcaseError):
    """A release did not pass the check of the guarantee it states; nothing was written."""


class InternalError(RuntimeError):
    """A bug in dpshowcase: please report it with the command that caused it."""
