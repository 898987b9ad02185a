"""One release, start to finish: (data, schema, parameters) → bundle folder → evaluation.

:func:`run_release` is the single library call behind a release; adapters (the web
app's job runner, benchmarks) call it and only translate its progress reports. It
chains the same steps as ``dpshowcase release``:

    read → encode (sensitive) → protect → ── post-processing from here on ──
    synthesize → write the bundle → compare synthetic with protected counts

Only the first three steps see sensitive records (in k-anonymity mode the synthesizers
read them too, and the result is checked); the sensitive data object is then dropped,
and everything after reads public outputs.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from dpshowcase._io.atomic import output_lock
from dpshowcase.aggregate.count import check_reporting_length
from dpshowcase.data.load import read_table
from dpshowcase.data.prepare import prepare
from dpshowcase.errors import InternalError, ParameterError, SchemaError
from dpshowcase.evaluate.evaluation import evaluate_release
from dpshowcase.evaluate.release_files import load_release
from dpshowcase.evaluate.report import write_report
from dpshowcase.kanon.protect import check_k
from dpshowcase.kanon.registry import check_mode
from dpshowcase.kanon.release import k_anonymous_release
from dpshowcase.ledger.recorder import LineageRecorder
from dpshowcase.ledger.store import check_lineage_name
from dpshowcase.privacy.accounting import BudgetPlan, DpParameters
from dpshowcase.privacy.aim import AimMechanism, MstMechanism
from dpshowcase.privacy.edges import private_edges
from dpshowcase.privacy.marginals import DPMarginals
from dpshowcase.privacy.noise import MAX_SEED, check_seed, noise_source
from dpshowcase.progress import Progress
from dpshowcase.release.bundle import ReleaseSummary, check_output, write_release
from dpshowcase.release.explore import compare_release
from dpshowcase.schema.model import Schema
from dpshowcase.schema.toml_io import schema_from_dict, schema_to_dict
from dpshowcase.synthesize.aggregate_seeded import (
    DEFAULT_ROW_SHARE,
    AggregateSeededSynthesizer,
    check_fabrication_weight,
    check_row_share,
)
from dpshowcase.synthesize.pgm import PgmSynthesizer
from dpshowcase.synthesize.registry import MODEL_SYNTHESIZERS, check_synthesizer

if TYPE_CHECKING:
    from dpshowcase.kanon.agreement import LengthAgreement
    from dpshowcase.kanon.guarantee import GuaranteeCheck

__all__ = ["STAGES", "ReleaseJob", "ReleaseOutcome", "check_public_edges", "run_release"]


STAGES: tuple[tuple[str, float], ...] = (
    ("Reading and encoding", 0.10),
    ("Protecting", 0.35),
    ("Synthesizing", 0.40),
    ("Writing the bundle", 0.05),
    ("Evaluating", 0.10),
)
"""The stages of a release and the share of the progress bar each one fills."""


def check_public_edges(schema: Schema | None, *, dp_edges: bool = False) -> None:
    """Refuse a DP release whose bin edges were taken from the data, unless DP chooses them.

    Quantile edges and the edges ``schema infer`` proposes are values of the sensitive
    data; the DP guarantee does not cover them, and every released label would carry
    them. A person must review them and mark them ``edges = "public"`` (or replace them
    with edges chosen without the data), or the release spends a share of ε on choosing
    them with DP (``dp_edges``: ``--dp-edges``, see :mod:`dpshowcase.privacy.edges`).
    """
    derived = schema.data_derived_edges if schema is not None else ()
    if dp_edges and not derived:
        raise ParameterError(
            "A share of epsilon for bin edges was given (--dp-edges), but no column of the "
            "schema has edges from the data; leave it out."
        )
    if schema is None or not derived or dp_edges:
        return
    spec = schema.column(derived[0])
    source = "quantiles" if spec.quantiles is not None else 'edges = "inferred"'
    raise SchemaError(
        f"Column {spec.name!r} has bin edges taken from the data ({source}), which a DP "
        'release would publish unprotected; review them and mark them edges = "public" in '
        "the schema (or write edges chosen without the data), or pass --dp-edges 0.05 to "
        "choose them with differential privacy."
    )


@dataclass(frozen=True, kw_only=True)
class ReleaseJob:
    """Everything a release is made from: checked before any data are read.

    The one model of a release's settings: the command line (flags and config file) and
    the web app build it, and the web app's worker process gets it back from
    :meth:`to_spec`/:meth:`from_spec`, so every adapter is checked by the same code
    and the same settings make the same bundle.
    """

    data: Path
    """The sensitive data file (.csv, .tsv or .parquet)."""
    output: Path
    """The bundle folder to write (its parent must exist)."""
    dp: DpParameters | None = None
    """DP mode: the parameters (ε, δ, R and the advanced ones)."""
    mode: Literal["dp", "k-anonymity"] = "dp"
    """The protection: differential privacy or k-anonymity."""
    k: int | None = None
    """k-anonymity mode: the smallest group released (≥ 2)."""
    k_synthesizer: str = "row-seeded"
    """k-anonymity mode: the synthesizer (see :mod:`dpshowcase.kanon.registry`)."""
    k_reporting_length: int = 3
    """k-anonymity mode: R, the longest released combination."""
    schema: Schema | None = None
    """How columns become attributes (None: every column categorical)."""
    source_name: str | None = None
    """The name the datasheet gives the source (default: the data file's name)."""
    null_values: tuple[str, ...] = ()
    """Extra cell values meaning "no value"."""
    seed: int | None = None
    """Reproducible noise and synthesis for tests and demos: NOT for release."""
    synthesizer: str = "aggregate-seeded"
    """DP mode: the synthesizer by name (see :mod:`dpshowcase.synthesize.registry`)."""
    fabrication_weight: float | None = None
    """DP mode: how strongly synthesis avoids combinations that were not released (see
    :class:`~dpshowcase.synthesize.aggregate_seeded.AggregateSeededSynthesizer`)."""
    row_share: float = DEFAULT_ROW_SHARE
    """DP mode: synthetic records per protected record (more: fewer fabricated
    combinations for the same count errors, and rows that are no longer cases)."""
    allow_identifiers: bool = False
    """Use columns even if nearly every value in them is distinct."""
    overwrite: bool = False
    """Replace ``output`` if it exists."""
    evaluate: bool = True
    """After writing: compare the synthetic records with the protected counts, and add
    the public evaluation report (report.html, metrics.json) to the bundle."""
    lineage: str | None = None
    """The lineage the release belongs to: its budget is reserved in the ledger, its
    withdrawals are honoured, its datasheet states the cumulative loss (see
    :mod:`dpshowcase.ledger`)."""
    ledger: Path | None = None
    """The ledger file (None: ledger.sqlite3 in the user's data folder)."""
    id_column: str | None = None
    """The column whose ids withdrawals are matched against (None: the schema's subject
    id); it is never released."""

    def __post_init__(self) -> None:
        """Check what can be checked without the data."""
        if self.mode == "dp":
            if not isinstance(self.dp, DpParameters):
                raise ParameterError("A DP release needs its parameters (epsilon, ...).")
            self._check_synthesis()
        elif self.mode == "k-anonymity":
            check_k(self.k)  # type: ignore[arg-type]
            check_mode(self.k_synthesizer)
        else:
            raise ParameterError(
                f"The release mode {self.mode!r} is unknown; use 'dp' or 'k-anonymity'."
            )
        check_reporting_length(self.reporting_length)
        if self.schema is not None:
            check_reporting_length(self.reporting_length, len(self.schema.columns))
        if self.mode == "dp" and self.dp is not None:
            if self.synthesizer in MODEL_SYNTHESIZERS and self.dp.edges_epsilon > 0:
                raise ParameterError(
                    f"--dp-edges works with the aggregate-seeded synthesizer only, not "
                    f"{self.synthesizer}; mark the bin edges public instead."
                )
            if self.synthesizer in MODEL_SYNTHESIZERS and _count_from_marginals_fits(self.dp):
                # AIM and MST measure every 1-way marginal anyway: the record count is
                # estimated from them (post-processing) and all of ε goes to the model
                object.__setattr__(
                    self, "dp", dataclasses.replace(self.dp, record_count_from_marginals=True)
                )
            if self.synthesizer not in MODEL_SYNTHESIZERS and self.dp.record_count_from_marginals:
                raise ParameterError(
                    "record_count_from_marginals is for the aim and mst synthesizers only."
                )
            check_public_edges(self.schema, dp_edges=self.dp.edges_epsilon > 0)
        object.__setattr__(self, "seed", check_seed(self.seed))
        if isinstance(self.null_values, str) or not all(
            isinstance(v, str) for v in self.null_values
        ):
            raise ParameterError("The null values must be a list of strings.")
        object.__setattr__(self, "null_values", tuple(self.null_values))
        object.__setattr__(self, "data", Path(self.data))
        object.__setattr__(self, "output", Path(self.output))
        self._check_lineage()

    def _check_synthesis(self) -> None:
        """Refuse a synthesizer or synthesis setting that cannot be used."""
        check_synthesizer(self.synthesizer)
        if self.fabrication_weight is not None:
            check_fabrication_weight(self.fabrication_weight)
        check_row_share(self.row_share)
        if self.synthesizer not in MODEL_SYNTHESIZERS:
            return
        for flag, given in (
            ("--row-share", self.row_share != DEFAULT_ROW_SHARE),
            ("--fabrication-weight", self.fabrication_weight is not None),
        ):
            if given:
                raise ParameterError(
                    f"{flag} works with the aggregate-seeded synthesizer only, not "
                    f"{self.synthesizer}; drop it."
                )

    def _check_lineage(self) -> None:
        if self.lineage is None:
            if self.id_column is not None:
                raise ParameterError(
                    "--id-column names the ids that withdrawals are matched against; give the "
                    "release a --lineage too."
                )
            return
        object.__setattr__(self, "lineage", check_lineage_name(self.lineage))
        if self.ledger is not None:
            object.__setattr__(self, "ledger", Path(self.ledger))
        dp = self.dp
        inferred = dp is not None and dp.delta is None and dp.record_count_public is None
        if self.mode == "dp" and inferred:
            raise ParameterError(
                "A release in a lineage needs an explicit δ (delta, e.g. 1e-6): "
                "otherwise delta is inferred from the noisy record count, and the ledger "
                "must reserve the budget before any noise is drawn."
            )

    def check_record_count(self, n_records: int) -> None:
        """Refuse a release the data's size makes empty: k above the number of records.

        Checked once the records are read, and by the web app as soon as a run is asked
        for (it knows the table's size before any worker runs): the same sentence.
        """
        if self.mode == "k-anonymity" and self.k is not None and self.k > n_records:
            raise ParameterError(
                f"k = {self.k} is more than the {n_records:,} records of the data: every "
                "count would be suppressed. Choose a smaller k (10 or 11 is usual)."
            )

    def to_spec(self) -> dict[str, Any]:
        """The job as JSON-ready data (what the web app hands its worker process)."""
        spec: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        spec["data"] = str(self.data)
        spec["output"] = str(self.output)
        spec["dp"] = _plain(dataclasses.asdict(self.dp)) if self.dp is not None else None
        spec["schema"] = schema_to_dict(self.schema) if self.schema is not None else None
        spec["null_values"] = list(self.null_values)
        spec["ledger"] = str(self.ledger) if self.ledger is not None else None
        return spec

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> ReleaseJob:
        """The job :meth:`to_spec` described, checked again."""
        values = dict(spec)
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise ParameterError(f"Unknown release setting(s) {unknown}.")
        dp, schema = values.pop("dp", None), values.pop("schema", None)
        nulls = values.pop("null_values", ())
        ledger = values.pop("ledger", None)
        return cls(
            **values,
            ledger=Path(ledger) if ledger is not None else None,
            dp=DpParameters(**dp) if dp is not None else None,
            schema=schema_from_dict(schema) if schema is not None else None,
            null_values=tuple(nulls) if isinstance(nulls, list | tuple) else nulls,
        )

    @property
    def reporting_length(self) -> int:
        """R of the release, whatever the mode."""
        if self.mode == "dp" and self.dp is not None:
            return self.dp.reporting_length
        return self.k_reporting_length


@dataclass(frozen=True)
class ReleaseOutcome:
    """What :func:`run_release` wrote, and how the synthetic data compare."""

    summary: ReleaseSummary
    """The bundle that was written."""
    evaluation: dict[str, Any] | None
    """The public evaluation (see :func:`_evaluate`), or None when not asked for."""
    k_check: GuaranteeCheck | None = None
    """k-anonymity mode: the check of the guarantee that the synthetic records passed."""
    k_agreement: list[LengthAgreement] | None = None
    """k-anonymity mode: how the synthetic counts agree with the released ones."""


class _Progress:
    """Turn stage-local progress into one fraction of the whole job."""

    def __init__(self, callback: Progress | None, stages: Progress | None) -> None:
        self._callback = callback
        self._stages = stages
        self._starts: dict[str, float] = {}
        start = 0.0
        for name, weight in STAGES:
            self._starts[name] = start
            start += weight
        self._weights = dict(STAGES)

    def __call__(
        self,
        stage: str,
        done: float = 0.0,
        total: float = 1.0,
        *,
        name: str | None = None,
        shown: bool = True,
    ) -> None:
        """``stage`` is one of :data:`STAGES`; ``name`` a finer name for the stage display."""
        if self._stages is not None and shown:
            self._stages(name or stage, done, total)
        if self._callback is None:
            return
        share = min(max(done / total, 0.0), 1.0) if total else 0.0
        self._callback(stage, self._starts[stage] + self._weights[stage] * share, 1.0)

    def finish(self) -> None:
        if self._callback is not None:
            self._callback("Done", 1.0, 1.0)


def run_release(
    job: ReleaseJob,
    progress: Progress | None = None,
    stages: Progress | None = None,
) -> ReleaseOutcome:
    """Make the release ``job`` describes; raise a UserError a person can fix.

    Both are :class:`~dpshowcase.progress.Progress`. ``progress`` follows the whole job
    as one fraction, reported as (stage, fraction, 1.0) (the web app's bar); ``stages``
    gets each stage by name (the command line's bars). The output's lock is held from
    the first check to the last file, so a second run aiming at the same output fails
    at once with a sentence (see :func:`~dpshowcase._io.atomic.output_lock`).
    """
    with output_lock(job.output):
        return _locked_release(job, _Progress(progress, stages))


def _locked_release(job: ReleaseJob, report: _Progress) -> ReleaseOutcome:
    """:func:`run_release` with the output's lock held: check, then record and run."""
    check_output(job.output, overwrite=job.overwrite)
    if job.lineage is None:
        return _run_release(job, report, None)
    recorder = LineageRecorder(
        job.lineage,
        ledger=job.ledger,
        id_column=job.id_column,
        source=job.source_name or job.data.name,
        output=job.output,
    )
    try:
        return _run_release(job, report, recorder)
    except BaseException as exc:
        recorder.fail(exc)  # a reservation is marked failed, never lost
        raise
    finally:
        recorder.close()


def _run_release(
    job: ReleaseJob, report: _Progress, recorder: LineageRecorder | None
) -> ReleaseOutcome:
    """:func:`run_release` after its checks; ``recorder`` records a lineage's release."""
    report("Reading and encoding")
    frame = read_table(job.data)
    if recorder is not None:  # withdrawn subjects go before anything is counted
        frame = recorder.drop_withdrawn(frame, job.schema.subject_id if job.schema else None)
    input_columns = list(frame.columns)
    schema_in, edges_report, plan = _dp_edges(job, frame, recorder)
    sensitive = prepare(
        frame, schema_in, null_values=job.null_values, allow_identifiers=job.allow_identifiers
    )
    del frame
    job.check_record_count(sensitive.n_records)
    if job.dp is not None and job.mode == "dp":
        job.dp.check_columns(len(sensitive.attributes.columns))
    else:
        check_reporting_length(job.reporting_length, len(sensitive.attributes.columns))
    schema = sensitive.schema
    report("Reading and encoding", 1, 1)
    if recorder is not None and plan is None:
        plan = _reserve(job, recorder, schema)

    report("Protecting", shown=False)  # the mechanism names its own steps
    if job.mode == "k-anonymity":
        # k-anonymity synthesizers read the sensitive records: one checked step
        k_release = k_anonymous_release(
            sensitive,
            k=job.k,  # type: ignore[arg-type]
            mode=job.k_synthesizer,
            reporting_length=job.reporting_length,
            seed=job.seed,
            progress=lambda stage, step, steps: report("Protecting", step, steps, name=stage),
        )
        del sensitive
        aggregates, synthetic = k_release.aggregates, k_release.synthetic
        measurements = None
        report("Synthesizing", 1, 1, shown=False)  # the k-anonymous records came with it
    elif job.synthesizer in MODEL_SYNTHESIZERS:
        assert job.dp is not None
        aggregates, synthetic = _model_release(job, sensitive, report, plan)
        del sensitive  # nothing below may see sensitive records
        measurements = None
    else:
        aggregates, synthetic, measurements = _marginals_release(
            job, sensitive, report, plan, edges_report
        )
        del sensitive  # nothing below may see sensitive records

    report("Writing the bundle")
    summary = write_release(
        job.output,
        aggregates=aggregates,
        synthetic=synthetic,
        schema=schema,
        input_columns=input_columns,
        source_name=job.source_name or job.data.name,
        overwrite=job.overwrite,
        measurements=measurements,
        datasheet_extra=recorder.datasheet() if recorder else None,
        manifest_extra=recorder.manifest() if recorder else None,
        before_publish=recorder.commit if recorder else None,
    )
    del synthetic, aggregates
    report("Writing the bundle", 1, 1)

    evaluation = None
    if job.evaluate:
        report("Evaluating")
        evaluation = _evaluate(summary.path)
        report("Evaluating", 1, 1)
    report.finish()
    if job.mode == "k-anonymity":
        return ReleaseOutcome(
            summary=summary,
            evaluation=evaluation,
            k_check=k_release.check,
            k_agreement=k_release.agreement,
        )
    return ReleaseOutcome(summary=summary, evaluation=evaluation)


def _marginals_release(
    job: ReleaseJob,
    sensitive: Any,
    report: _Progress,
    plan: BudgetPlan | None,
    edges_report: dict[str, Any] | None,
) -> tuple[Any, Any, Any]:
    """DP marginals, then (post-processing) the fitted records and their counts.

    Returns the published aggregates, the synthetic records and the raw measurements.
    """
    assert job.dp is not None
    mechanism = DPMarginals(
        seed=job.seed, **{f.name: getattr(job.dp, f.name) for f in fields(job.dp)}
    )
    aggregates = mechanism.fit(
        sensitive,
        progress=lambda stage, step, steps: report(
            "Protecting", step, steps, name=_protecting(stage)
        ),
    )
    del sensitive  # nothing below may see sensitive records
    if plan is not None:
        _check_spent_as_reserved(plan, aggregates.parameters)
    if edges_report is not None:
        aggregates = aggregates.derive(
            parameters={**aggregates.parameters, "private_edges": edges_report}
        )
    report("Synthesizing")
    synthesizer = AggregateSeededSynthesizer(
        seed=job.seed, fabrication_weight=job.fabrication_weight, row_share=job.row_share
    ).fit(aggregates)
    synthetic = synthesizer.sample(
        progress=lambda _stage, done, total: report("Synthesizing", done, total)
    )
    # publish the fitted records' counts; the raw measurements go beside them
    return synthesizer.fitted_aggregates(), synthetic, aggregates


def _dp_edges(
    job: ReleaseJob, frame: pl.DataFrame, recorder: LineageRecorder | None
) -> tuple[Schema | None, dict[str, Any] | None, BudgetPlan | None]:
    """DP bin edges when the job spends ε on them: (schema to encode with, report, plan).

    Part of the protection: DP quantiles of the sensitive values, public edges out. A
    lineage's ledger reserves the release's budget first, before any noise is drawn.
    """
    if job.mode != "dp" or job.dp is None or job.dp.edges_epsilon <= 0:
        return job.schema, None, None
    assert job.schema is not None  # checked by ReleaseJob
    plan = _reserve(job, recorder, job.schema) if recorder is not None else None
    nulls = replace(job.schema, null_values=(*job.schema.null_values, *job.null_values))
    source = noise_source(None if job.seed is None else (job.seed + 1) % (MAX_SEED + 1))
    schema, report = private_edges(frame, nulls, job.dp, source)
    return schema, report, plan


def _model_release(
    job: ReleaseJob, sensitive: Any, report: _Progress, plan: BudgetPlan | None
) -> tuple[Any, Any]:
    """AIM or MST: protected measurements (checked against the ledger's reservation),
    then (post-processing) the graphical model's records and its consistent marginals as
    the published aggregates."""
    assert job.dp is not None
    mechanism = (
        AimMechanism(job.dp, seed=job.seed)
        if job.synthesizer == "aim"
        else MstMechanism(job.dp, seed=job.seed)
    )
    measurements = mechanism.fit(
        sensitive,
        progress=lambda stage, step, steps: report("Protecting", step, steps, name=stage),
    )
    del sensitive
    if plan is not None:
        _check_spent_as_reserved(plan, measurements.parameters())
    report("Synthesizing")
    synthesizer = PgmSynthesizer(seed=job.seed).fit(measurements)
    synthetic = synthesizer.sample(
        progress=lambda _stage, done, total: report("Synthesizing", done, total)
    )
    return synthesizer.fitted_aggregates(synthetic), synthetic


def _count_from_marginals_fits(dp: DpParameters) -> bool:
    """AIM and MST estimate the record count from their 1-way marginals when δ is given,
    the count is not declared public and no share of ε was asked for it."""
    return (
        dp.delta is not None
        and dp.record_count_public is None
        and dp.number_of_records_epsilon_proportion is None
    )


def _reserve(job: ReleaseJob, recorder: LineageRecorder, schema: Schema) -> BudgetPlan | None:
    """Reserve the release's budget in the ledger, before any noise; the DP plan."""
    if job.mode == "k-anonymity":
        recorder.reserve_other("k-anonymity", k=job.k)
        return None
    assert job.dp is not None
    unit = "subject" if schema.subject_id else job.dp.privacy_unit
    # δ is explicit or the count public (checked by ReleaseJob): no noise is needed
    return recorder.reserve_dp(job.dp, privacy_unit=unit, seeded=job.seed is not None)


def _check_spent_as_reserved(plan: BudgetPlan, parameters: dict[str, Any]) -> None:
    """The mechanism must have spent exactly what the ledger reserved (else a bug)."""
    spent = (parameters.get("rho"), parameters.get("epsilon"), parameters.get("delta"))
    if not all(
        isinstance(v, int | float) and math.isclose(v, w, rel_tol=1e-9)
        for v, w in zip(spent, (plan.rho, plan.epsilon, plan.delta), strict=True)
    ):
        raise InternalError("The release spent another budget than the ledger reserved.")


def _protecting(stage: str) -> str:
    """'Protecting: the record count' from the mechanism's 'The record count'."""
    words = stage.removeprefix("Protecting").strip()
    return f"Protecting: {words[:1].lower()}{words[1:]}"


def _evaluate(bundle: Path) -> dict[str, Any]:
    """Public evaluation of a written bundle (it reads the release files only).

    The compact comparison of :func:`~dpshowcase.release.explore.compare_release`, plus
    the evaluation report of :mod:`dpshowcase.evaluate` written into the bundle.
    """
    comparison = compare_release(bundle)
    written = bundle / "metrics.json"  # write_release writes the public report itself
    if written.is_file():
        metrics = json.loads(written.read_text(encoding="utf-8"))
    else:
        metrics = evaluate_release(load_release(bundle), audit=False)
        write_report(metrics, bundle)
    agreement = (metrics.get("comparability") or {}).get("agreement_by_length") or {}
    comparison["agreement"] = {str(k): v for k, v in agreement.items()}
    comparison["report"] = True
    return comparison


def _plain(value: Any) -> Any:
    """Tuples as lists, recursively (JSON has no tuples)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
