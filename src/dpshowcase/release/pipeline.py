"""One release, start to finish: (data, schema, parameters) → bundle folder → evaluation.

:func:`run_release` is the single library call behind a release; adapters (the web
app's job runner, benchmarks) call it and only translate its progress reports. It
chains the same steps as ``dpshowcase release``:

    read → encode (sensitive) → protect → ── post-processing from here on ──
    synthesize → write the bundle → compare synthetic with protected counts

Only the first three steps see sensitive records; the sensitive data object is dropped
as soon as the protected aggregates exist, and everything after reads public outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

from dpshowcase.errors import ParameterError
from dpshowcase.privacy.accounting import DpParameters
from dpshowcase.release.bundle import ReleaseSummary
from dpshowcase.schema.model import Schema

__all__ = ["STAGES", "ReleaseJob", "ReleaseOutcome", "run_release"]

ProgressCallback = Callable[[str, float], None]
"""Called with (stage, fraction of the whole job done in [0, 1])."""

STAGES: tuple[tuple[str, float], ...] = (
    ("Reading and encoding", 0.10),
    ("Protecting", 0.35),
    ("Synthesizing", 0.40),
    ("Writing the bundle", 0.05),
    ("Evaluating", 0.10),
)
"""The stages of a release and the share of the progress bar each one fills."""


@dataclass(frozen=True, kw_only=True)
class ReleaseJob:
    """Everything a release is made from: checked before any data are read."""

    data: Path
    """The sensitive data file (.csv, .tsv or .parquet)."""
    output: Path
    """The bundle folder to write (its parent must exist)."""
    dp: DpParameters
    """The DP parameters (ε, δ, R and the advanced ones)."""
    mode: Literal["dp"] = "dp"
    """The protection; k-anonymity releases are added when their synthesizers exist."""
    schema: Schema | None = None
    """How columns become attributes (None: every column categorical)."""
    source_name: str | None = None
    """The name the datasheet gives the source (default: the data file's name)."""
    null_values: tuple[str, ...] = ()
    """Extra cell values meaning "no value"."""
    seed: int | None = None
    """Reproducible noise and synthesis for tests and demos: NOT for release."""
    allow_identifiers: bool = False
    """Use columns even if nearly every value in them is distinct."""
    overwrite: bool = False
    """Replace ``output`` if it exists."""
    evaluate: bool = True
    """Compare the synthetic records with the protected counts after writing."""

    def __post_init__(self) -> None:
        """Check what can be checked without the data."""
        from dpshowcase.aggregate.count import check_reporting_length

        if self.mode != "dp":
            raise ParameterError(
                f"The release mode {self.mode!r} is not available; use 'dp'."
            )
        if not isinstance(self.dp, DpParameters):
            raise ParameterError("dp must be DpParameters (see dpshowcase.privacy.accounting).")
        check_reporting_length(self.dp.reporting_length)
        if self.schema is not None:
            self.dp.check_columns(len(self.schema.columns))
        object.__setattr__(self, "data", Path(self.data))
        object.__setattr__(self, "output", Path(self.output))


@dataclass(frozen=True)
class ReleaseOutcome:
    """What :func:`run_release` wrote, and how the synthetic data compare."""

    summary: ReleaseSummary
    """The bundle that was written."""
    evaluation: dict[str, Any] | None
    """:func:`~dpshowcase.release.explore.compare_release` of the bundle, or None."""


class _Progress:
    """Turn stage-local progress into one fraction of the whole job."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._starts: dict[str, float] = {}
        start = 0.0
        for name, weight in STAGES:
            self._starts[name] = start
            start += weight
        self._weights = dict(STAGES)

    def __call__(self, stage: str, done: float = 0.0, total: float = 1.0) -> None:
        if self._callback is None:
            return
        share = min(max(done / total, 0.0), 1.0) if total else 0.0
        self._callback(stage, self._starts[stage] + self._weights[stage] * share)

    def finish(self) -> None:
        if self._callback is not None:
            self._callback("Done", 1.0)


def run_release(job: ReleaseJob, progress: ProgressCallback | None = None) -> ReleaseOutcome:
    """Make the release ``job`` describes; raise a DpShowcaseError a person can fix."""
    from dpshowcase.data.load import read_table
    from dpshowcase.data.prepare import prepare
    from dpshowcase.privacy.marginals import DPMarginals
    from dpshowcase.release.bundle import check_output, write_release
    from dpshowcase.synthesize.aggregate_seeded import AggregateSeededSynthesizer

    report = _Progress(progress)
    check_output(job.output, overwrite=job.overwrite)

    report("Reading and encoding")
    frame = read_table(job.data)
    input_columns = list(frame.columns)
    sensitive = prepare(
        frame, job.schema, null_values=job.null_values, allow_identifiers=job.allow_identifiers
    )
    del frame
    job.dp.check_columns(len(sensitive.attributes.columns))
    schema = sensitive.schema
    report("Reading and encoding", 1, 1)

    mechanism = DPMarginals(
        seed=job.seed, **{f.name: getattr(job.dp, f.name) for f in fields(job.dp)}
    )
    report("Protecting")
    aggregates = mechanism.fit(
        sensitive, progress=lambda _stage, step, steps: report("Protecting", step, steps)
    )
    del sensitive  # nothing below may see sensitive records

    report("Synthesizing")
    synthetic = (
        AggregateSeededSynthesizer(seed=job.seed)
        .fit(aggregates)
        .sample(progress=lambda done, total: report("Synthesizing", done, total))
    )

    report("Writing the bundle")
    summary = write_release(
        job.output,
        aggregates=aggregates,
        synthetic=synthetic,
        schema=schema,
        input_columns=input_columns,
        source_name=job.source_name or job.data.name,
        overwrite=job.overwrite,
    )
    del synthetic, aggregates

    evaluation = None
    if job.evaluate:
        from dpshowcase.release.explore import compare_release

        report("Evaluating")
        evaluation = compare_release(summary.path)
    report.finish()
    return ReleaseOutcome(summary=summary, evaluation=evaluation)
