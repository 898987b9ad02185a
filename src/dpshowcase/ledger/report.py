"""A lineage as plain data: what ``ledger show --json`` prints and the web app shows."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from dpshowcase.ledger.model import DP_KINDS
from dpshowcase.ledger.store import Ledger, as_utc, bundle_state

__all__ = ["lineage_report"]


def _iso(moment: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC (SQLite hands back naive times; the ledger writes UTC only)."""
    aware = as_utc(moment)
    return None if aware is None else aware.isoformat()


def lineage_report(book: Ledger, name: str) -> dict[str, Any]:
    """A lineage as plain data: releases, cumulative loss, cap and its history."""
    state = book.state(name)
    cap = state.cap
    return {
        "lineage": state.name,
        "ledger": str(book.path),
        "cumulative": state.cumulative.to_dict(),
        "cumulative_statement": state.cumulative.statement,
        "cap": None
        if cap is None
        else {
            "epsilon": cap.epsilon,
            "delta": cap.delta,
            "left_epsilon": max(cap.epsilon - state.cumulative.epsilon, 0.0)
            if math.isfinite(state.cumulative.epsilon)
            else 0.0,
        },
        "cap_history": [
            {
                "date": _iso(c.created),
                "epsilon": c.epsilon,
                "delta": c.delta,
                "reason": c.reason,
                "tool_version": c.tool_version,
            }
            for c in state.cap_history
        ],
        "withdrawals_last_recorded": _iso(state.withdrawals_through),
        "releases": [
            {
                "entry": e.id,
                "date": _iso(e.created),
                "finished": _iso(e.finished),
                "kind": e.kind,
                "status": e.status,
                "inside_dp_accounting": e.kind in DP_KINDS,
                "tool_version": e.tool_version,
                "source": e.source,
                "bundle": e.output,
                "bundle_checksum": e.checksum,
                "bundle_state": bundle_state(e),
                "epsilon": e.epsilon,
                "delta": e.delta,
                "rho": e.rho,
                "k": e.k,
                "privacy_unit": e.privacy_unit,
                "record_count_source": e.record_count_source,
                "withdrawals_honoured_through": _iso(e.withdrawals_through),
                "note": e.message,
            }
            for e in state.releases
        ],
    }
