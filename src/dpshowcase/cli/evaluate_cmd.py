"""``dpshowcase evaluate`` and ``dpshowcase compare``: thin adapters over dpshowcase.evaluate.

``evaluate`` writes OUT/report.html and OUT/metrics.json for a release, with every metric
the sources allow (with ``--sensitive`` they describe sensitive records: not public).
``compare`` prints, for a selection of attributes, the synthetic count beside the
protected count, and the combinations where the two disagree most.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from dpshowcase.cli._output import Stages, console, user_errors
from dpshowcase.errors import InputError, ParameterError
from dpshowcase.release.bundle import enclosing_bundle


def evaluate(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Folder for report.html and metrics.json."),
    ],
    release: Annotated[
        Path | None,
        typer.Option(
            "--release",
            "-r",
            help="The release bundle folder to evaluate (a folder holding only another "
            "tool's synthetic.csv is evaluated as external synthetic data).",
        ),
    ] = None,
    synthetic: Annotated[
        Path | None,
        typer.Option(
            "--synthetic",
            help="Another tool's synthetic data file (or a folder holding synthetic.csv): "
            "evaluated as external synthetic data against --sensitive.",
        ),
    ] = None,
    schema: Annotated[
        Path | None,
        typer.Option(
            "--schema",
            help="With --synthetic: the schema of the sensitive data [every column categorical].",
        ),
    ] = None,
    sensitive: Annotated[
        Path | None,
        typer.Option(
            "--sensitive",
            help="The sensitive data the release was made from: adds fidelity and privacy "
            "metrics (the output is then NOT public).",
        ),
    ] = None,
    holdout: Annotated[
        Path | None,
        typer.Option(
            "--holdout",
            help="Records of the same population NOT used for the release: the membership "
            "audit then attacks the release itself.",
        ),
    ] = None,
    audit: Annotated[
        bool,
        typer.Option(
            "--audit/--no-audit",
            help="Without --holdout, audit a DP release by re-running it on half a sample.",
        ),
    ] = True,
    resolution: Annotated[
        int | None,
        typer.Option(
            "--resolution", help="Counts below this are rare [k of the release, else 10]."
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace report.html and metrics.json if present.")
    ] = False,
) -> None:
    """Evaluate a release or external synthetic data: write OUT/report.html and metrics.json.

    Without --sensitive only the release itself is read and the report is public (every
    bundle already holds one). With --sensitive the report compares the release with the
    sensitive records: keep it confidential. --synthetic FILE --sensitive DATA evaluates
    another tool's synthetic records with every metric that needs no release parameters.
    """
    # Deferred: the library loads numba, polars and OpenDP; --help stays instant.
    from dpshowcase.data.load import read_table
    from dpshowcase.evaluate.evaluation import evaluate_release
    from dpshowcase.evaluate.external import (
        add_external_metrics,
        external_holdout,
        load_external,
    )
    from dpshowcase.evaluate.release_files import load_release
    from dpshowcase.evaluate.report import METRICS_JSON, REPORT_HTML, write_report
    from dpshowcase.schema.toml_io import load_schema

    with user_errors():
        if resolution is not None and resolution < 1:
            raise ParameterError(f"--resolution must be a whole number ≥ 1, not {resolution}.")
        if holdout is not None and sensitive is None:
            raise ParameterError("--holdout needs --sensitive (the records the release used).")
        release, synthetic = _targets(release, synthetic, sensitive, schema)
        output = Path(output)
        if sensitive is not None:
            _refuse_bundle_output(output)
        if output.exists() and not output.is_dir():
            raise InputError(f"The output {output} is a file; name a folder.")
        if not overwrite and any((output / n).exists() for n in (REPORT_HTML, METRICS_JSON)):
            raise InputError(
                f"{output} already holds a report; choose another folder or pass --overwrite."
            )
        if not output.resolve().parent.is_dir():
            raise InputError(
                f"The folder {output.resolve().parent} does not exist; create it first."
            )
        with Stages() as stages:
            notes: list[str] = []
            with stages.stage("Reading"):
                sensitive_frame = read_table(sensitive) if sensitive is not None else None
                holdout_frame = read_table(holdout) if holdout is not None else None
                if synthetic is not None:
                    assert sensitive_frame is not None
                    public, sensitive_frame, notes = load_external(
                        synthetic,
                        sensitive_frame,
                        load_schema(schema) if schema is not None else None,
                    )
                    if holdout_frame is not None:
                        holdout_frame = external_holdout(holdout_frame, public.schema)
                else:
                    assert release is not None
                    public = load_release(release)
            with stages.stage("Evaluating"):
                metrics = evaluate_release(
                    public,
                    sensitive=sensitive_frame,
                    holdout=holdout_frame,
                    audit=audit,
                    resolution=resolution,
                )
                if synthetic is not None:
                    assert sensitive_frame is not None
                    add_external_metrics(metrics, public, sensitive_frame, notes)
            with stages.stage("Writing the report"):
                output.mkdir(exist_ok=True)
                write_report(metrics, output)
    console.print(f"Wrote {output / REPORT_HTML} and {output / METRICS_JSON}.", soft_wrap=True)
    if sensitive is not None:
        console.print(
            "[bold yellow]Confidential:[/] this report describes the sensitive records; "
            "do not publish it.",
            soft_wrap=True,
        )
    for note in metrics.get("notes", []):
        console.print(f"Note: {note}", soft_wrap=True)


def _refuse_bundle_output(output: Path) -> None:
    """A report on sensitive data must never land in (or inside) a release bundle."""
    bundle = enclosing_bundle(output)
    if bundle is not None:
        raise InputError(
            f"With --sensitive the report is confidential, and {output} is in the release "
            f"bundle {bundle}, which is published as a whole; write it to a folder outside "
            "any release bundle."
        )


def _targets(
    release: Path | None, synthetic: Path | None, sensitive: Path | None, schema: Path | None
) -> tuple[Path | None, Path | None]:
    """(release, synthetic) to evaluate: exactly one; a folder holding only another tool's
    synthetic.csv counts as synthetic. ParameterError for a combination that cannot work."""
    # Deferred: the library loads numba, polars and OpenDP; --help stays instant.
    from dpshowcase.errors import ParameterError

    if (release is None) == (synthetic is None):
        raise ParameterError(
            "Name what to evaluate: a release folder with --release, or another tool's "
            "synthetic data with --synthetic (not both)."
        )
    if release is not None and _external_folder(release):
        synthetic, release = release, None
    if synthetic is not None and sensitive is None:
        raise ParameterError(
            "External synthetic data are evaluated against the sensitive data: add "
            "--sensitive DATA."
        )
    if schema is not None and synthetic is None:
        raise ParameterError("--schema is for --synthetic; a release names its own schema.")
    return release, synthetic


def _external_folder(folder: Path) -> bool:
    """True for a folder with synthetic records but no release parameters (another tool's)."""
    return (
        folder.is_dir()
        and not (folder / "parameters.json").exists()
        and any((folder / n).is_file() for n in ("synthetic.csv", "synthetic.parquet"))
    )


def compare(
    release: Annotated[Path, typer.Argument(metavar="RELEASE", help="The release bundle folder.")],
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            "-s",
            help="An attribute column=value (repeatable), e.g. --select ageBroad=39--47 "
            '--select "traffickMonths=13--24 (1-2 yrs)".',
        ),
    ] = None,
    top: Annotated[
        int,
        typer.Option("--top", help="How many of the most disagreeing combinations to list."),
    ] = 10,
    tolerance: Annotated[
        float,
        typer.Option("--tolerance", help="Counts agree within this relative gap [0.10]."),
    ] = 0.10,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")
    ] = False,
) -> None:
    """Compare synthetic and protected counts: for a selection, and where they differ most."""
    # Deferred: the library loads numba, polars and OpenDP; --help stays instant.
    from dpshowcase.evaluate._space import count_table, encode_released
    from dpshowcase.evaluate.comparability import (
        compare_selection,
        largest_disagreements,
        parse_selection,
    )
    from dpshowcase.evaluate.release_files import load_release

    with user_errors():
        if top < 0:
            raise ParameterError(f"--top must be 0 or more, not {top}.")
        public = load_release(release)
        if public.synthetic is None:
            raise ParameterError(f"{release} holds no synthetic records to compare.")
        result = None
        if select:
            result = compare_selection(
                parse_selection(select),
                synthetic=public.synthetic,
                schema=public.schema,
                protected=public.protected,
                reporting_length=public.reporting_length,
                tolerance=tolerance,
            )
        worst = None
        if top and public.protected is not None and public.protected.height:
            counts = count_table(
                encode_released(public.synthetic, public.schema), public.reporting_length
            )
            worst = largest_disagreements(public.protected, counts, top=top)

    if as_json:
        typer.echo(
            json.dumps(
                {
                    "selection": result.to_dict() if result else None,
                    "largest_disagreements": worst.to_dicts() if worst is not None else None,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    out = console.__class__(highlight=False)  # tables go to stdout
    if result is not None:
        table = Table(title=escape(result.combination), title_justify="left")
        for name in ("protected count", "synthetic count", "ratio", "comparability"):
            table.add_column(name, justify="right")
        table.add_row(
            f"{result.protected_count:,}" if result.protected_count is not None else "not released",
            f"{result.synthetic_count:,}",
            f"{result.ratio:.2f}" if result.ratio is not None else "—",
            result.label,
        )
        out.print(table)
        out.print(escape(result.reason), soft_wrap=True)
    if worst is not None and not worst.height:
        out.print(
            "No released combination disagrees: the synthetic records reproduce every "
            "protected count exactly.",
            soft_wrap=True,
        )
    if worst is not None and worst.height:
        table = Table(
            title="Where synthetic and protected counts disagree most", title_justify="left"
        )
        for name in ("combination", "length", "protected", "synthetic", "difference", "ratio"):
            table.add_column(name, justify="left" if name == "combination" else "right")
        for row in worst.iter_rows(named=True):
            table.add_row(
                escape(row["combination"]),
                str(row["length"]),
                f"{row['protected']:,}",
                f"{row['synthetic']:,}",
                f"{row['difference']:+,}",
                f"{row['ratio']:.2f}",
            )
        out.print(table)
