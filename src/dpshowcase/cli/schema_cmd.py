"""``dpshowcase schema infer|show``: propose a schema, and show one for checking."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dpshowcase.cli._output import console, user_errors
from dpshowcase.errors import ParameterError

app = typer.Typer(
    help="Propose a schema from data (infer) and show a schema file (show).",
    no_args_is_help=True,
)


@app.command()
def infer(
    data: Annotated[Path, typer.Argument(help="The data file: .csv, .tsv or .parquet.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the proposed schema to this TOML file."),
    ] = None,
    null: Annotated[
        list[str] | None,
        typer.Option("--null", help="A cell value meaning 'no value' (repeatable), e.g. --null N."),
    ] = None,
    delimiter: Annotated[
        str, typer.Option("--delimiter", help="Separator inside multi-value cells.")
    ] = ";",
    bins: Annotated[int, typer.Option("--bins", help="Bins for each numeric column.")] = 5,
    subject_id: Annotated[
        str | None, typer.Option("--subject-id", help="Column naming the person a row belongs to.")
    ] = None,
) -> None:
    """Propose a schema for DATA and print what was decided for each column, and why."""
    # Deferred: the library loads numba, polars and OpenDP; --help stays instant.
    from dpshowcase.data.load import read_table
    from dpshowcase.schema.infer import infer_schema
    from dpshowcase.schema.toml_io import dump_schema, save_schema

    with user_errors():
        if not 2 <= bins <= 100:
            raise ParameterError(f"--bins must be between 2 and 100, not {bins}.")
        frame = read_table(data)
        schema, reports = infer_schema(
            frame,
            null_values=tuple(null or ()),
            delimiter=delimiter,
            bins=bins,
            subject_id=subject_id,
        )
        table = Table(title=f"Proposed schema for {data.name} ({frame.height:,} rows)")
        for column in ("column", "decision", "distinct", "empty", "why"):
            table.add_column(column)
        for r in reports:
            table.add_row(r.name, r.decision, f"{r.distinct:,}", f"{r.empty_share:.0%}", r.note)
        console.print(table)
        if output is None:
            typer.echo(dump_schema(schema))
            console.print("Save it with --output schema.toml, check it, and pass it with --schema.")
        else:
            save_schema(schema, output)
            console.print(
                f"Wrote the schema to {output}; check and edit it, then pass it with --schema."
            )


@app.command()
def show(schema: Annotated[Path, typer.Argument(help="A schema TOML file.")]) -> None:
    """Check SCHEMA and print its columns."""
    # Deferred: the library loads numba, polars and OpenDP; --help stays instant.
    from dpshowcase.schema.toml_io import load_schema

    with user_errors():
        loaded = load_schema(schema)
        table = Table(title=f"{schema.name}: {len(loaded.columns)} columns")
        for column in ("column", "kind", "details"):
            table.add_column(column)
        for spec in loaded.columns:
            details = []
            if spec.bins:
                details.append("bins " + ", ".join(f"{e:g}" for e in spec.bins))
            if spec.quantiles:
                details.append(f"{spec.quantiles} quantile bins")
            if spec.kind.value == "multi_value":
                details.append(f"delimiter {spec.delimiter!r}")
            if spec.sensitive_zero:
                details.append("0 is an answer")
            if spec.allow_identifier:
                details.append("identifier allowed")
            if spec.categories is not None:
                details.append(f"{len(spec.categories)} declared categories")
            if not spec.can_be_empty:
                details.append("never empty")
            table.add_row(spec.name, spec.kind.value, "; ".join(details))
        console.print(table)
        console.print(f"Null values: {', '.join(repr(v) for v in loaded.null_values)}")
        if loaded.subject_id:
            console.print(f"Subject id: {loaded.subject_id} (rows of one subject are merged)")
