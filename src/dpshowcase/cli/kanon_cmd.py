"""k-anonymity on the command line: k-anonymous releases, the classic baseline, comparison.

- ``dpshowcase release DATA --k 10 --mode row-seeded`` (through :func:`run_k_release`);
- ``dpshowcase kanonymize DATA --quasi gender,ageBroad,citizenship --k 11``;
- ``dpshowcase kanon-compare DATA --k 10 --quasi ... --epsilon 4``.

Thin adapters over :mod:`dpshowcase.kanon`: check what can be checked before reading
the data, show a progress bar per stage, print one sentence on a user error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from dpshowcase.cli._output import StageBars, Stages, console, user_errors
from dpshowcase.cli.ledger_cmd import print_lineage
from dpshowcase.errors import InputError, ParameterError
from dpshowcase.schema.toml_io import load_schema

if TYPE_CHECKING:
    from dpshowcase.kanon.compare import Comparison
    from dpshowcase.release.config import ReleaseConfig

DataArg = Annotated[Path, typer.Argument(help="The sensitive data file: .csv, .tsv or .parquet.")]
KOpt = Annotated[int, typer.Option("--k", "-k", help="k: the smallest group released (≥ 2).")]
QuasiOpt = Annotated[
    str,
    typer.Option(
        "--quasi", "-q", help="Quasi-identifier columns, comma-separated: gender,ageBroad,..."
    ),
]
HierarchyOpt = Annotated[
    Path | None,
    typer.Option("--hierarchy", help="TOML/JSON file: per column, value = group to merge into."),
]
SchemaOpt = Annotated[
    Path | None,
    typer.Option("--schema", help="Schema TOML file; default: every column categorical."),
]
NullOpt = Annotated[
    list[str] | None,
    typer.Option("--null", help="A cell value meaning 'no value' (repeatable), e.g. --null N."),
]
LengthOpt = Annotated[
    int, typer.Option("--reporting-length", "-r", help="Longest combination compared (R).")
]
IdentifiersOpt = Annotated[
    bool,
    typer.Option("--allow-identifiers", help="Use columns even if nearly every value is distinct."),
]

DP_ONLY_FLAGS = ("delta", "record_count_public", "percentile_percentage")
"""Release settings that mean nothing without --epsilon."""


def run_k_release(
    settings: ReleaseConfig,
    *,
    k: int,
    mode: str,
    overwrite: bool,
    allow_identifiers: bool,
    dp_flags: dict[str, Any],
) -> None:
    """``dpshowcase release --k``: check, protect, synthesize, check the guarantee, write."""
    # Deferred: the library loads numba, polars and OpenDP; --help stays instant.
    from dpshowcase.release.config import DEFAULT_REPORTING_LENGTH
    from dpshowcase.release.pipeline import ReleaseJob, run_release

    # Everything that can be checked without the data is checked first: the flags that
    # only DP takes here, the rest by ReleaseJob (as for the config file and the web app).
    if settings.epsilon is not None:
        raise ParameterError(
            "Give either --epsilon (differential privacy) or --k (k-anonymity), not both."
        )
    for flag, value in (
        ("--fabrication-weight", settings.fabrication_weight),
        ("--row-share", settings.row_share),
    ):
        if value is not None:
            raise ParameterError(
                f"{flag} applies to DP synthesis only; k-anonymous synthesizers never "
                "fabricate. Drop it, or use --epsilon instead of --k."
            )
    given = [name for name in DP_ONLY_FLAGS if dp_flags.get(name) is not None]
    if given:
        flag = "--" + given[0].replace("_", "-").replace("-percentage", "")
        raise ParameterError(
            f"{flag} applies to differential privacy only; drop it, or use --epsilon instead "
            "of --k."
        )
    reporting_length = (
        DEFAULT_REPORTING_LENGTH if settings.reporting_length is None else settings.reporting_length
    )
    paths = settings.checked_paths(overwrite=overwrite)
    schema = paths.schema
    job = ReleaseJob(
        data=paths.data,
        output=paths.output,
        mode="k-anonymity",
        k=k,
        k_synthesizer=mode,
        k_reporting_length=reporting_length,
        schema=schema,
        null_values=settings.null_values,
        seed=settings.seed,
        allow_identifiers=allow_identifiers,
        overwrite=overwrite,
        evaluate=False,  # the bundle's public report is written with it
        lineage=settings.lineage,
        ledger=settings.ledger,
        id_column=settings.id_column,
    )
    with Stages() as stages, StageBars(stages) as bars:
        outcome = run_release(job, stages=bars)
    summary = outcome.summary
    assert outcome.k_check is not None
    assert outcome.k_agreement is not None

    checked = sum(outcome.k_check.synthetic_combinations.values())
    singles = outcome.k_agreement[0]
    console.print(f"Guarantee: {escape(summary.guarantee)}", soft_wrap=True)
    console.print(
        f"Checked: all {checked:,} combinations of up to {reporting_length} attributes in the "
        f"synthetic records describe at least {k} sensitive records; every released count is "
        f"a multiple of {k}.",
        soft_wrap=True,
    )
    console.print(
        f"Synthetic attribute counts equal the released counts for {singles.exact:,} of "
        f"{singles.released:,} attributes (relative L1 error {singles.relative_l1:.2%}).",
        soft_wrap=True,
    )
    console.print(
        f"Wrote {summary.synthetic_rows:,} synthetic records and {summary.combinations:,} "
        f"k-anonymous combinations ({mode}) to {escape(str(summary.path))}.",
        soft_wrap=True,
    )
    print_lineage(settings)


def kanonymize(
    data: DataArg,
    quasi: QuasiOpt,
    k: KOpt,
    hierarchy: HierarchyOpt = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the k-anonymized records (.csv or .parquet)."),
    ] = None,
    reporting_length: LengthOpt = 3,
    schema: SchemaOpt = None,
    null: NullOpt = None,
    allow_identifiers: IdentifiersOpt = False,
) -> None:
    """Classic k-anonymization: generalise, then drop records in quasi-identifier groups below k.

    Prints how many records are dropped and unique, and which combinations of up to R
    attributes a release of the result would lose. The output holds the schema's columns
    (quasi-identifiers generalised), written atomically.
    """
    # Deferred: the library loads numba, polars and OpenDP; --help stays instant.
    from dpshowcase.aggregate.count import check_reporting_length, count_combinations
    from dpshowcase.aggregate.io import write_table
    from dpshowcase.data.load import read_table
    from dpshowcase.data.prepare import prepare
    from dpshowcase.kanon.baseline import k_anonymize
    from dpshowcase.kanon.compare import compare
    from dpshowcase.kanon.hierarchy import load_hierarchy
    from dpshowcase.kanon.protect import check_k
    from dpshowcase.release.bundle import release_columns

    with user_errors():
        check_k(k)
        check_reporting_length(reporting_length)
        quasi_identifiers = [q.strip() for q in quasi.split(",") if q.strip()]
        groups = load_hierarchy(hierarchy) if hierarchy is not None else None
        if output is not None:
            _check_table_output(output)
        with Stages() as stages:
            with stages.stage("Reading and encoding"):
                frame = read_table(data)
                input_columns = list(frame.columns)
                sensitive = prepare(
                    frame,
                    _schema(schema),
                    null_values=tuple(null or ()),
                    allow_identifiers=allow_identifiers,
                )
                del frame
            with stages.stage("Suppressing"):
                result = k_anonymize(sensitive, quasi_identifiers, k, groups)
            check_reporting_length(reporting_length, len(sensitive.attributes.columns))
            with stages.stage("Counting what is lost") as update:
                exact = count_combinations(sensitive, reporting_length, progress=update)
                loss = compare("k-anonymized", result.records, exact, k, sensitive.n_records)
            if output is not None:
                with stages.stage("Writing"):
                    table = result.records.to_frame()
                    columns = release_columns(sensitive.schema, input_columns)
                    write_table(table.select(columns), output)
        report = result.report
        console.print(
            f"k = {k} on {', '.join(report.quasi_identifiers)}: {report.records:,} records, "
            f"{report.unique_before:,} ({report.share(report.unique_before):.1%}) unique on "
            f"the quasi-identifiers before, {report.dropped:,} "
            f"({report.share(report.dropped):.1%}) dropped, {report.kept:,} kept in "
            f"{report.classes:,} groups"
            + (f"; {report.values_generalised:,} values generalised." if groups else "."),
            soft_wrap=True,
        )
        table_out = Table(title="What a release of the k-anonymized records would lose")
        for column in ("length", "combinations", "kept", "lost", "generalised", "count error"):
            table_out.add_column(column, justify="right")
        for entry in loss.lengths:
            table_out.add_row(
                str(entry.length),
                f"{entry.sensitive:,}",
                f"{entry.preserved:,}",
                f"{entry.suppressed:,} ({_share(entry.suppressed, entry.sensitive)})",
                f"{entry.generalised:,}",
                f"{entry.mean_relative_error:.1%}",
            )
        console.print(table_out)
        if output is not None:
            console.print(f"Wrote {report.kept:,} k-anonymized records to {output}.")


def kanon_compare(
    data: DataArg,
    k: KOpt,
    quasi: QuasiOpt,
    epsilon: Annotated[
        float, typer.Option("--epsilon", "-e", help="ε of the DP synthetic data compared.")
    ],
    reporting_length: LengthOpt = 3,
    mode: Annotated[
        str, typer.Option("--mode", help="k-anonymity synthesis mode [row-seeded].")
    ] = "row-seeded",
    hierarchy: HierarchyOpt = None,
    schema: SchemaOpt = None,
    null: NullOpt = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Reproducible run (tests and demos).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Also write the figures as a table (.csv)."),
    ] = None,
    allow_identifiers: IdentifiersOpt = False,
) -> None:
    """Side by side on DATA: classic k-anonymization, k-anonymous and DP synthetic data.

    For each, the records kept and, per combination length, how many combinations of the
    sensitive data are preserved, suppressed and fabricated. The figures come from exact
    counts: they are for the data owner, not for publication.
    """
    # Deferred: the library loads numba, polars and OpenDP; --help stays instant.
    import polars as pl

    from dpshowcase.aggregate.count import check_reporting_length
    from dpshowcase.aggregate.io import write_table
    from dpshowcase.data.prepare import prepare
    from dpshowcase.kanon.compare import side_by_side
    from dpshowcase.kanon.hierarchy import load_hierarchy
    from dpshowcase.kanon.protect import check_k
    from dpshowcase.kanon.registry import check_mode
    from dpshowcase.privacy.accounting import DpParameters

    with user_errors():
        check_k(k)
        check_mode(mode)
        check_reporting_length(reporting_length)
        DpParameters(epsilon=epsilon, reporting_length=reporting_length)
        quasi_identifiers = [q.strip() for q in quasi.split(",") if q.strip()]
        groups = load_hierarchy(hierarchy) if hierarchy is not None else None
        if output is not None:
            _check_table_output(output)
        with Stages() as stages:
            with stages.stage("Reading and encoding"):
                sensitive = prepare(
                    data,
                    _schema(schema),
                    null_values=tuple(null or ()),
                    allow_identifiers=allow_identifiers,
                )
            check_reporting_length(reporting_length, len(sensitive.attributes.columns))
            with StageBars(stages) as progress:
                comparisons, details = side_by_side(
                    sensitive,
                    k=k,
                    quasi_identifiers=quasi_identifiers,
                    epsilon=epsilon,
                    reporting_length=reporting_length,
                    mode=mode,
                    hierarchy=groups,
                    seed=seed,
                    progress=progress,
                )
            if output is not None:
                with stages.stage("Writing"):
                    rows = [row for c in comparisons for row in c.as_rows()]
                    write_table(pl.DataFrame(rows), output)
        _print_comparison(comparisons, details, k)
        if output is not None:
            console.print(f"Wrote the figures to {output}.")


def _print_comparison(comparisons: list[Comparison], details: dict[str, Any], k: int) -> None:
    table = Table(title=f"Beside the sensitive data (k = {k}; exact counts: not for publication)")
    table.add_column("")
    for comparison in comparisons:
        table.add_column(_short(comparison.method), justify="right")
    table.add_row(
        "rows",
        *(f"{c.rows:,} ({_share(c.rows, c.sensitive_rows)})" for c in comparisons),
    )
    for i, first in enumerate(comparisons[0].lengths):
        entries = [c.lengths[i] for c in comparisons]
        table.add_section()
        table.add_row(
            f"length {first.length}: preserved",
            *(f"{e.preserved:,} ({_share(e.preserved, e.sensitive)})" for e in entries),
        )
        table.add_row(
            f"  of {first.releasable:,} held by ≥ {k}",
            *(f"{e.preserved_releasable:,}" for e in entries),
        )
        table.add_row(
            f"  suppressed (of {first.sensitive:,})", *(f"{e.suppressed:,}" for e in entries)
        )
        table.add_row(
            "  fabricated",
            *(
                f"{e.fabricated:,}" + (f" +{e.generalised:,} gen." if e.generalised else "")
                for e in entries
            ),
        )
        table.add_row("  count error", *(f"{e.mean_relative_error:.1%}" for e in entries))
    console.print(table)
    console.print(
        "Columns: " + "; ".join(f"{_short(c.method)} = {c.method}" for c in comparisons) + ".",
        soft_wrap=True,
    )
    baseline = details["baseline"]
    console.print(
        f"Baseline: {baseline['dropped']:,} records dropped ({baseline['dropped_share']:.1%}); "
        f"{baseline['unique_before']:,} ({baseline['unique_before_share']:.1%}) were unique on "
        f"{', '.join(baseline['quasi_identifiers'])}.",
        soft_wrap=True,
    )


def _short(method: str) -> str:
    """A column heading for a method: its name up to the first parenthesis."""
    return method.split(" (")[0]


def _schema(path: Path | None) -> Any:
    return load_schema(path) if path is not None else None


def _check_table_output(path: Path) -> None:
    if path.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError(f"Cannot write {path}: name the output .csv or .parquet.")
    if not path.resolve().parent.is_dir():
        raise InputError(
            f"The folder {path.resolve().parent} does not exist; create it or choose another "
            "output."
        )


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"
