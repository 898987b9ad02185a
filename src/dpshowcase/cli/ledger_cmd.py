"""``dpshowcase ledger show|cap`` and ``dpshowcase withdraw``: the privacy ledger.

A thin adapter over :mod:`dpshowcase.ledger`: what a data-protection officer reads
(every release of a lineage, its cumulative loss, the cap and its history) and what
they record (a cap with its reason, withdrawn ids as keyed hashes).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from dpshowcase.cli._output import console, user_errors
from dpshowcase.errors import ParameterError

if TYPE_CHECKING:
    from dpshowcase.release.config import ReleaseConfig

app = typer.Typer(
    help="The privacy ledger: releases of a lineage, cumulative loss, caps.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The lineage, e.g. ctdc-cases.")]
LedgerOpt = Annotated[
    Path | None,
    typer.Option("--ledger", help="The ledger file [ledger.sqlite3 in the user data folder]."),
]


@app.command("show")
def show(
    name: NameArg,
    ledger: LedgerOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """List the releases of lineage NAME and its cumulative privacy loss."""
    # Deferred: the ledger loads SQLAlchemy and the library; --help stays instant.
    from dpshowcase.ledger.report import lineage_report
    from dpshowcase.ledger.store import Ledger, check_lineage_name

    with user_errors():
        name = check_lineage_name(name)
        with Ledger.open(ledger) as book:
            if not book.exists(name):
                known = ", ".join(book.lineages()[:10]) or "none yet"
                raise ParameterError(
                    f"The ledger {book.path} has no lineage {name!r} (known: {known})."
                )
            data = lineage_report(book, name)
        if as_json:
            sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            return
        _print(data)


def _number(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _print(data: dict[str, Any]) -> None:
    table = Table(title=f"Lineage {escape(data['lineage'])} ({escape(data['ledger'])})")
    for column in (
        "#",
        "date (UTC)",
        "kind",
        "status",
        "ε",
        "δ",
        "ρ",
        "unit",
        "record count",
        "version",
        "bundle",
    ):
        table.add_column(column)
    for r in data["releases"]:
        kind = r["kind"] if r["inside_dp_accounting"] else f"{r['kind']} (outside DP accounting)"
        if r["kind"] == "k-anonymity" and r["k"]:
            kind = f"k-anonymity, k={r['k']} (outside DP accounting)"
        checksum = (r["bundle_checksum"] or "")[:12]
        table.add_row(
            str(r["entry"]),
            r["date"][:19].replace("T", " "),
            escape(kind),
            r["status"],
            _number(r["epsilon"], "g"),
            _number(r["delta"], ".3g"),
            _number(r["rho"], ".4g"),
            r["privacy_unit"] or "—",
            r["record_count_source"] or "—",
            r["tool_version"],
            escape(f"{r['bundle_state']} {checksum}".strip()),
        )
    console.print(table)
    console.print(f"Cumulative DP loss: {escape(data['cumulative_statement'])}.", soft_wrap=True)
    cap = data["cap"]
    if cap is None:
        console.print("Cap: none set (dpshowcase ledger cap NAME --epsilon E).")
    else:
        at = "" if cap["delta"] is None else f", δ={cap['delta']:.3g}"
        console.print(f"Cap: ε={cap['epsilon']:g}{at}; left: ε={cap['left_epsilon']:.4g}.")
    for c in data["cap_history"]:
        at = "" if c["delta"] is None else f", δ={c['delta']:.3g}"
        console.print(
            f"  cap set {c['date'][:19].replace('T', ' ')}: ε={c['epsilon']:g}{at} — "
            f"{escape(c['reason'])}",
            soft_wrap=True,
        )
    if data["withdrawals_last_recorded"]:
        console.print(
            f"Withdrawals: the latest was recorded {data['withdrawals_last_recorded'][:19]}; "
            "releases list the moment up to which they honoured them.",
            soft_wrap=True,
        )
    console.print(f"Rule: {escape(data['cumulative']['rule'])}", soft_wrap=True)


@app.command("list")
def list_lineages(ledger: LedgerOpt = None) -> None:
    """List the lineages in the ledger, each with its cumulative loss and cap."""
    # Deferred: the ledger loads SQLAlchemy and the library; --help stays instant.
    from dpshowcase.ledger.store import Ledger

    with user_errors(), Ledger.open(ledger) as book:
        names = book.lineages()
        if not names:
            console.print(f"The ledger {escape(str(book.path))} has no lineage yet.")
            return
        for name in names:
            state = book.state(name)
            cap = "no cap" if state.cap is None else f"cap ε={state.cap.epsilon:g}"
            console.print(
                f"{escape(name)}: {len(state.releases)} release(s); "
                f"{escape(state.cumulative.statement)}; {cap}",
                soft_wrap=True,
            )


@app.command("cap")
def cap(
    name: NameArg,
    epsilon: Annotated[
        float, typer.Option("--epsilon", "-e", help="The most ε the lineage may spend in total.")
    ],
    delta: Annotated[
        float | None,
        typer.Option("--delta", help="The δ the cap is judged at [the sum of the releases' δ]."),
    ] = None,
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why (required when the cap is raised); kept forever."),
    ] = "",
    ledger: LedgerOpt = None,
) -> None:
    """Set the cap of lineage NAME; a release that would exceed it is refused."""
    # Deferred: the ledger loads SQLAlchemy and the library; --help stays instant.
    from dpshowcase.ledger.store import Ledger

    with user_errors(), Ledger.open(ledger) as book:
        book.set_cap(name, epsilon, delta, reason)
        state = book.state(name)
    at = "" if delta is None else f", δ={delta:.3g}"
    console.print(
        f"Cap of lineage {escape(state.name)}: ε={epsilon:g}{at}; spent so far "
        f"{escape(state.cumulative.statement)}.",
        soft_wrap=True,
    )


def withdraw(
    name: NameArg,
    ids: Annotated[
        Path,
        typer.Option(
            "--ids", help="A file of withdrawn ids: one per line, or a table with --column."
        ),
    ],
    column: Annotated[
        str | None,
        typer.Option("--column", help="The column of ids when --ids is a CSV/TSV/Parquet table."),
    ] = None,
    ledger: LedgerOpt = None,
) -> None:
    """Record withdrawn subject (or record) ids for lineage NAME.

    They are stored only as keyed hashes (HMAC-SHA256, key beside the ledger), and every
    later release of NAME leaves those subjects out before anything is counted.
    """
    # Deferred: the ledger loads SQLAlchemy and the library; --help stays instant.
    from dpshowcase.ledger.store import Ledger
    from dpshowcase.ledger.withdrawal import key_path, read_id_file

    with user_errors():
        values = read_id_file(ids, column)
        with Ledger.open(ledger) as book:
            added, moment = book.withdraw(name, values)
            path = book.path
    console.print(
        f"Recorded {added:,} new withdrawal(s) for lineage {escape(name)} at "
        f"{moment:%Y-%m-%d %H:%M:%S} UTC, as keyed hashes in {escape(str(path))} (key: "
        f"{escape(str(key_path(path)))}); every later release of it leaves them out. "
        "Bundles already published stay published.",
        soft_wrap=True,
    )


def print_lineage(settings: ReleaseConfig) -> None:
    """After a release of a lineage: its cumulative loss, as the datasheet states it."""
    if settings.lineage is None:
        return
    # Deferred: the ledger loads SQLAlchemy and the library; --help stays instant.
    from dpshowcase.ledger.store import Ledger

    with Ledger.open(settings.ledger) as ledger:
        state = ledger.state(settings.lineage)
    console.print(
        f"Lineage {escape(state.name)}: cumulative loss {escape(state.cumulative.statement)}; "
        f"recorded in {escape(str(ledger.path))}.",
        soft_wrap=True,
    )
