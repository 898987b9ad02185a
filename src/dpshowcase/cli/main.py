"""The ``dpshowcase`` command line: a thin adapter over the library.

Every command reads its input, calls the library, and writes its output atomically;
an error a person can fix is one sentence on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from dpshowcase._version import __version__
from dpshowcase.cli import (
    evaluate_cmd,
    kanon_cmd,
    ledger_cmd,
    release_cmd,
    schema_cmd,
    serve_cmd,
)
from dpshowcase.cli._output import Stages, console, user_errors

if TYPE_CHECKING:
    from dpshowcase.aggregate.count import CombinationCounts
    from dpshowcase.aggregate.sensitivity import LengthSensitivity

app = typer.Typer(
    name="dpshowcase",
    help=(
        "Publish sensitive case records safely: counts of attribute combinations "
        "(exact, k-anonymous or differentially private), synthetic data and reports.\n\n"
        "Start with:  dpshowcase demo-data --output demo.csv  then  "
        "dpshowcase aggregate demo.csv --output counts.csv"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(schema_cmd.app, name="schema")
app.add_typer(ledger_cmd.app, name="ledger")
app.command("withdraw")(ledger_cmd.withdraw)
app.command("release")(release_cmd.release)
app.command("serve")(serve_cmd.serve)
app.command("evaluate")(evaluate_cmd.evaluate)
app.command("compare")(evaluate_cmd.compare)
app.command("kanonymize")(kanon_cmd.kanonymize)
app.command("kanon-compare")(kanon_cmd.kanon_compare)

DataArg = Annotated[Path, typer.Argument(help="The sensitive data file: .csv, .tsv or .parquet.")]
SchemaOpt = Annotated[
    Path | None,
    typer.Option(
        "--schema",
        help="Schema TOML file (see 'dpshowcase schema infer'); default: every column categorical.",
    ),
]
NullOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--null",
        help="A cell value meaning 'no value' (repeatable), e.g. --null N. Empty cells always are.",
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dpshowcase {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Publish sensitive case records safely."""


@app.command("demo-data")
def demo_data(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the demo CSV (or .parquet).")
    ],
    rows: Annotated[
        int, typer.Option("--rows", help="Number of case records to generate.")
    ] = 250_000,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the generator (same seed, same data).")
    ] = 0,
) -> None:
    """Write realistic, entirely fictitious counter-trafficking case records."""
    # Deferred: the library loads numba, polars and OpenDP; --help stays instant.
    from dpshowcase.aggregate.io import write_table
    from dpshowcase.data.demo import generate_demo_records

    with user_errors(), Stages() as stages:
        with stages.stage("Generating records"):
            frame = generate_demo_records(rows=rows, seed=seed)
        with stages.stage("Writing"):
            write_table(frame, output)
    console.print(
        f"Wrote {frame.height:,} fictitious case records with {frame.width} columns to {output}."
    )


@app.command()
def aggregate(
    data: DataArg,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the counts: .csv or .parquet.")
    ],
    reporting_length: Annotated[
        int, typer.Option("--reporting-length", "-r", help="Longest combination to count (R).")
    ] = 3,
    resolution: Annotated[
        int | None,
        typer.Option(
            "--resolution",
            "-k",
            help="k-anonymity: round counts down to a multiple of k and drop counts below k.",
        ),
    ] = None,
    schema: SchemaOpt = None,
    null: NullOpt = None,
    allow_identifiers: Annotated[
        bool,
        typer.Option(
            "--allow-identifiers", help="Count columns even if nearly every value is distinct."
        ),
    ] = False,
    lineage: Annotated[
        str | None,
        typer.Option(
            "--lineage",
            help="List the output in this lineage's ledger (outside the DP accounting) and "
            "honour its withdrawals.",
        ),
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="The ledger file [ledger.sqlite3 in the user data folder]."),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            "--id-column",
            help="With --lineage: the column of ids withdrawals are matched in [schema's "
            "subject_id]; never counted.",
        ),
    ] = None,
) -> None:
    """Count every attribute combination of length 1..R in DATA.

    Writes a table with the header combination,length,count; a combination is written
    column:value;column:value. The counts are exact (sensitive!) unless --resolution is given.
    """
    # Deferred: the library loads numba, polars and OpenDP; --help stays instant.
    from dpshowcase.aggregate.count import check_reporting_length, count_combinations
    from dpshowcase.aggregate.io import write_table
    from dpshowcase.aggregate.resolution import apply_resolution, check_resolution
    from dpshowcase.aggregate.sensitivity import sensitivity
    from dpshowcase.data.load import read_table
    from dpshowcase.data.prepare import prepare
    from dpshowcase.errors import ParameterError
    from dpshowcase.ledger.recorder import LineageRecorder
    from dpshowcase.schema.toml_io import load_schema

    with user_errors(), contextlib.ExitStack() as cleanup:
        check_reporting_length(reporting_length)
        if resolution is not None:
            check_resolution(resolution)
        if lineage is None and id_column is not None:
            raise ParameterError("--id-column works with --lineage; give the lineage too.")
        recorder = None
        if lineage is not None:
            recorder = LineageRecorder(
                lineage, ledger=ledger, id_column=id_column, source=data.name, output=output
            )
            cleanup.callback(recorder.close)
        with Stages() as stages:
            with stages.stage("Reading and encoding"):
                frame = read_table(data)
                spec = load_schema(schema) if schema is not None else None
                if recorder is not None:  # withdrawn subjects go before anything is counted
                    frame = recorder.drop_withdrawn(frame, spec.subject_id if spec else None)
                sensitive = prepare(
                    frame, spec, null_values=tuple(null or ()), allow_identifiers=allow_identifiers
                )
                del frame
            check_reporting_length(reporting_length, len(sensitive.attributes.columns))
            if recorder is not None:
                kind = "exact" if resolution is None else "k-anonymity"
                recorder.reserve_other(kind, k=resolution)
            try:
                with stages.stage("Counting combinations") as update:
                    counts = count_combinations(sensitive, reporting_length, progress=update)
                if resolution is not None:
                    counts = apply_resolution(counts, resolution)
                with stages.stage("Writing"):
                    write_table(
                        counts.to_frame(), output, recorder.commit if recorder else None
                    )
            except BaseException as exc:
                if recorder is not None:
                    recorder.fail(exc)
                raise
        _print_summary(
            counts, sensitivity(sensitive, reporting_length), sensitive.n_records, resolution
        )
        console.print(f"Wrote {len(counts):,} combinations to {output}.")


def _print_summary(
    counts: CombinationCounts,
    stats: list[LengthSensitivity],
    n_records: int,
    resolution: int | None,
) -> None:
    table = Table(
        title=f"{n_records:,} records"
        + (f", resolution k={resolution}" if resolution else " (exact counts: sensitive)")
    )
    for column in ("length", "combinations", "combinations per record (mean / p99 / max)"):
        table.add_column(column, justify="right")
    for s in stats:
        n = int((counts.lengths == s.length).sum())
        table.add_row(str(s.length), f"{n:,}", f"{s.mean:,.1f} / {s.p99:,.0f} / {s.maximum:,}")
    console.print(table)
