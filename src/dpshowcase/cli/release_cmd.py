"""``dpshowcase release``: DP marginals, synthetic records and the release bundle, in one go.

A thin adapter: it merges the config file and the flags, checks every parameter before
the data are read, then calls :func:`~dpshowcase.release.pipeline.run_release` (the
same call the web app makes), showing a progress bar per stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from dpshowcase.cli._output import StageBars, Stages, console, user_errors
from dpshowcase.cli.kanon_cmd import run_k_release
from dpshowcase.cli.ledger_cmd import print_lineage
from dpshowcase.errors import ParameterError

if TYPE_CHECKING:
    from dpshowcase.release.config import ReleaseConfig


def release(
    data: Annotated[
        Path | None,
        typer.Argument(
            metavar="DATA",
            help="The sensitive data file: .csv, .tsv or .parquet (or 'data' in --config).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="The bundle folder to write (must not exist yet)."),
    ] = None,
    epsilon: Annotated[
        float | None,
        typer.Option("--epsilon", "-e", help="Total privacy budget ε (> 0), e.g. 4."),
    ] = None,
    delta: Annotated[
        float | None,
        typer.Option("--delta", help="δ in (0, 1); default 1/(n·ln n) from the protected count."),
    ] = None,
    reporting_length: Annotated[
        int | None,
        typer.Option("--reporting-length", "-r", help="Longest released combination R [3]."),
    ] = None,
    schema: Annotated[
        Path | None,
        typer.Option("--schema", help="Schema TOML file; default: every column categorical."),
    ] = None,
    null: Annotated[
        list[str] | None,
        typer.Option("--null", help="A cell value meaning 'no value' (repeatable), e.g. --null N."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed", help="Reproducible noise for tests and demos: the output is NOT private."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="A release TOML file; flags given here override it."),
    ] = None,
    record_count_public: Annotated[
        int | None,
        typer.Option(
            "--record-count-public",
            help="Declare the number of records public knowledge: released exactly, no budget.",
        ),
    ] = None,
    percentile: Annotated[
        float | None,
        typer.Option("--percentile", help="Percentile setting each length's sensitivity [99]."),
    ] = None,
    synthesizer: Annotated[
        str,
        typer.Option(
            "--synthesizer",
            help="DP synthesizer: aggregate-seeded (default; fabricates least), aim or mst "
            "(graphical model of adaptively measured marginals: higher-order fidelity; "
            "needs dpshowcase[aim]).",
        ),
    ] = "aggregate-seeded",
    fabrication_weight: Annotated[
        float | None,
        typer.Option(
            "--fabrication-weight",
            help="Synthesis: how strongly to avoid combinations that were not released "
            "[from the data: 3 for records of 18 or more attributes, 4 for 10 or fewer]; "
            "lower is more accurate, higher fabricates fewer, with larger single-attribute "
            "errors.",
        ),
    ] = None,
    row_share: Annotated[
        float | None,
        typer.Option(
            "--row-share",
            help="Synthesis: synthetic records per protected record, 1 to 2.5 [1.25]. With "
            "--fabrication-weight 5, --row-share 2.3 fabricates fewer combinations than "
            "pac-synth at smaller errors, but the rows are no longer cases.",
        ),
    ] = None,
    dp_edges: Annotated[
        float | None,
        typer.Option(
            "--dp-edges",
            metavar="SHARE",
            help="Share of ε (e.g. 0.05) for choosing, with DP, the bin edges of numeric "
            "columns whose edges come from the data (quantiles, edges = \"inferred\").",
        ),
    ] = None,
    allow_large_epsilon: Annotated[
        bool,
        typer.Option(
            "--allow-large-epsilon",
            help="Accept ε above 20, where the guarantee protects next to nothing (stated in "
            "the bundle).",
        ),
    ] = False,
    allow_large_delta: Annotated[
        bool,
        typer.Option(
            "--allow-large-delta",
            help="Accept δ above 1/n (n: the protected record count), which allows publishing "
            "whole records (stated in the bundle).",
        ),
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace the output folder if it exists.")
    ] = False,
    allow_identifiers: Annotated[
        bool,
        typer.Option(
            "--allow-identifiers", help="Use columns even if nearly every value is distinct."
        ),
    ] = False,
    k: Annotated[
        int | None,
        typer.Option(
            "--k", help="k-anonymity instead of DP: the smallest group released (≥ 2), e.g. 10."
        ),
    ] = None,
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode",
            help="With --k: row-seeded (default), value-seeded, unseeded or aggregate-seeded.",
        ),
    ] = None,
    lineage: Annotated[
        str | None,
        typer.Option(
            "--lineage",
            help="Record the release in this lineage's ledger (cumulative loss, cap, "
            "withdrawals), e.g. --lineage ctdc-cases.",
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
            "subject_id]; never released.",
        ),
    ] = None,
) -> None:
    """Release DATA with differential privacy (--epsilon) or k-anonymity (--k).

    Protected counts, synthetic records and a datasheet.

    Writes a folder with synthetic.csv/.parquet, aggregates.csv, parameters.json,
    manifest.json and README.md, all at once or not at all.
    """
    with user_errors():
        settings = _settings(
            config,
            data=data,
            output=output,
            epsilon=epsilon,
            delta=delta,
            reporting_length=reporting_length,
            schema=schema,
            null_values=tuple(null or ()) or None,
            seed=seed,
            record_count_public=record_count_public,
            percentile_percentage=percentile,
            fabrication_weight=fabrication_weight,
            row_share=row_share,
            edges_epsilon_proportion=dp_edges,
            allow_large_epsilon=allow_large_epsilon or None,
            allow_large_delta=allow_large_delta or None,
            lineage=lineage,
            ledger=ledger,
            id_column=id_column,
        )
        if k is not None or mode is not None:
            if dp_edges is not None or allow_large_epsilon or allow_large_delta:
                raise ParameterError(
                    "--dp-edges, --allow-large-epsilon and --allow-large-delta apply to "
                    "differential privacy only; drop them, or use --epsilon instead of --k."
                )
            _run_k(
                settings,
                k,
                mode,
                overwrite,
                allow_identifiers,
                delta,
                record_count_public,
                percentile,
            )
            return
        if settings.epsilon is None:
            raise ParameterError(
                "No privacy budget was given; pass --epsilon (differential privacy, e.g. "
                "--epsilon 4) or --k (k-anonymity, e.g. --k 10)."
            )
        _run(
            settings,
            overwrite=overwrite,
            allow_identifiers=allow_identifiers,
            synthesizer=synthesizer,
        )


def _run_k(
    settings: ReleaseConfig,
    k: int | None,
    mode: str | None,
    overwrite: bool,
    allow_identifiers: bool,
    delta: float | None,
    record_count_public: int | None,
    percentile: float | None,
) -> None:
    """The k-anonymity release (see :mod:`dpshowcase.cli.kanon_cmd`)."""
    if k is None:
        raise ParameterError(
            "--mode chooses a k-anonymity synthesizer; give --k too (e.g. --k 10)."
        )
    run_k_release(
        settings,
        k=k,
        mode=mode or "row-seeded",
        overwrite=overwrite,
        allow_identifiers=allow_identifiers,
        dp_flags={
            "delta": delta,
            "record_count_public": record_count_public,
            "percentile_percentage": percentile,
        },
    )


def _settings(config: Path | None, **flags: Any) -> ReleaseConfig:
    # Deferred: the library loads numba, polars and OpenDP; --help stays instant.
    from dpshowcase.release.config import ReleaseConfig, load_config

    base = load_config(config) if config is not None else ReleaseConfig()
    return base.override(**flags)


def _run(
    settings: ReleaseConfig,
    *,
    overwrite: bool,
    allow_identifiers: bool,
    synthesizer: str = "aggregate-seeded",
) -> None:
    # Deferred: the library loads numba, polars and OpenDP; --help stays instant.
    from dpshowcase.aggregate.count import check_reporting_length
    from dpshowcase.release.pipeline import ReleaseJob, run_release

    # Everything that can be checked without the data is checked first.
    params = settings.dp_parameters()
    check_reporting_length(params.reporting_length)
    paths = settings.checked_paths(overwrite=overwrite)
    schema = paths.schema
    if schema is not None:
        params.check_columns(len(schema.columns))
    job = ReleaseJob(
        data=paths.data,
        output=paths.output,
        dp=params,
        schema=schema,
        null_values=settings.null_values,
        seed=settings.seed,
        allow_identifiers=allow_identifiers,
        overwrite=overwrite,
        evaluate=False,  # the bundle's public report is written with it
        fabrication_weight=settings.fabrication_weight,
        row_share=settings.synthesis_row_share,
        synthesizer=synthesizer,
        lineage=settings.lineage,
        ledger=settings.ledger,
        id_column=settings.id_column,
    )
    if settings.seed is not None:
        console.print(
            f"[bold yellow]Warning:[/] --seed {settings.seed} makes the noise reproducible: "
            "anyone with the seed can remove it. The output is NOT differentially private "
            "and NOT for release (tests and demos only).",
            soft_wrap=True,
        )

    with Stages() as stages, StageBars(stages) as bars:
        summary = run_release(job, stages=bars).summary

    console.print(f"Guarantee: {escape(summary.guarantee)}", soft_wrap=True)
    console.print(
        f"Wrote {summary.synthetic_rows:,} synthetic records and {summary.combinations:,} "
        f"protected combinations to {escape(str(summary.path))}.",
        soft_wrap=True,
    )
    for warning in summary.warnings:
        console.print(f"[bold yellow]Warning:[/] {escape(warning)}", soft_wrap=True)
    print_lineage(settings)
    if not summary.private:
        console.print(
            "[bold yellow]NOT FOR RELEASE:[/] the noise was seeded; the bundle says so.",
            soft_wrap=True,
        )
