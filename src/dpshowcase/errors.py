"""Errors raised by dpshowcase: one tree.

Every error dpshowcase raises on purpose is a ``DpShowcaseError``. Its two branches
say whose move it is:

* a :class:`UserError` (also a ``ValueError``) is something the person running
  dpshowcase caused and can fix; its message is one plain sentence saying what is wrong
  and what to do. The command line prints it on one line and exits with code 2; the web
  app shows it beside the form.
* an :class:`InternalError` (also a ``RuntimeError``) is a bug in dpshowcase. It keeps
  its traceback and should be reported with the command that caused it. A
  :class:`GuaranteeError` is one: a release failed the check of the guarantee it
  states, which the mechanisms are built never to do; nothing was written.

::

    DpShowcaseError
    ├── UserError (ValueError)          the user can fix it; the message says how
    │   ├── InputError                  a data file that cannot be used as it is
    │   ├── SchemaError                 a schema malformed or not matching the data
    │   └── ParameterError              an absurd or inconsistent parameter
    └── InternalError (RuntimeError)    a bug in dpshowcase, not the user's fault
        └── GuaranteeError              a release failed its own privacy check

The library raises no bare ``ValueError``: code calling dpshowcase catches
``UserError`` for what a person can fix and lets anything else surface.
"""

from __future__ import annotations

__all__ = [
    "DpShowcaseError",
    "GuaranteeError",
    "InputError",
    "InternalError",
    "ParameterError",
    "SchemaError",
    "UserError",
]


class DpShowcaseError(Exception):
    """Base of every error dpshowcase raises on purpose."""


class UserError(DpShowcaseError, ValueError):
    """Something the user caused and can fix; the message is written for them."""


class InputError(UserError):
    """A data file is empty, malformed, wrongly encoded or otherwise unusable."""


class SchemaError(UserError):
    """A schema is malformed or does not match the data it describes."""


class ParameterError(UserError):
    """A parameter is out of range or inconsistent with the others."""


class InternalError(DpShowcaseError, RuntimeError):
    """A bug in dpshowcase: please report it with the command that caused it."""


class GuaranteeError(InternalError):
    """A release did not pass the check of the guarantee it states; nothing was written.

    The mechanisms are built so that this never happens: when it does, it is a bug.
    """
