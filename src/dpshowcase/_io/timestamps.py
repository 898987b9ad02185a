"""The one clock of the outputs: when a bundle or a report says it was made.

``SOURCE_DATE_EPOCH`` (seconds since 1970, the reproducible-builds convention) replaces
the current time when it is set, so that the same inputs, parameters and seed give
byte-identical files (the command line and the web app are tested that way).
"""

from __future__ import annotations

import datetime as dt
import os

from dpshowcase.errors import ParameterError

__all__ = ["created_utc"]


def created_utc() -> str:
    """The current UTC time (or SOURCE_DATE_EPOCH's) as ``YYYY-MM-DDTHH:MM:SSZ``."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        except (ValueError, OverflowError, OSError):
            raise ParameterError(
                f"SOURCE_DATE_EPOCH must be whole seconds since 1970, not {epoch!r}; "
                "fix or unset it."
            ) from None
    else:
        moment = dt.datetime.now(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
