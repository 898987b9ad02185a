"""run_release: one call from data to an evaluated bundle, with progress."""

from __future__ import annotations

import json

import pytest

from dpshowcase.data.demo import generate_demo_records
from dpshowcase.errors import InputError, ParameterError
from dpshowcase.privacy.accounting import DpParameters
from dpshowcase.release.bundle import BUNDLE_FILES
from dpshowcase.release.pipeline import STAGES, ReleaseJob, run_release
from dpshowcase.schema.model import ColumnSpec, Schema


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipeline") / "cases.csv"
    generate_demo_records(rows=500, seed=8).write_csv(path)
    return path


def _job(demo, output, **changes):
    values = {
        "data": demo,
        "output": output,
        "dp": DpParameters(epsilon=4, reporting_length=2),
        "seed": 11,
        "schema": Schema(
            columns=tuple(
                ColumnSpec(name=n)
                for n in ("gender", "ageBroad", "citizenship", "isForcedLabour", "meansThreats")
            )
        ),
    }
    values.update(changes)
    return ReleaseJob(**values)


def test_release_with_progress_and_evaluation(demo, tmp_path):
    seen = []
    outcome = run_release(_job(demo, tmp_path / "out"), lambda s, d, t: seen.append((s, d / t)))
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted([*BUNDLE_FILES, "noisy_aggregates.csv", "metrics.json", "report.html"])
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert seen[-1] == ("Done", 1.0)
    assert {s for s, _ in seen} >= {name for name, _ in STAGES}
    assert outcome.summary.private is False
    assert outcome.evaluation["reporting_length"] == 2
    assert outcome.evaluation["report"] is True
    assert set(outcome.evaluation["agreement"]) == {"1", "2"}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["source"] == "cases.csv"


def test_same_seed_same_release(demo, tmp_path):
    run_release(_job(demo, tmp_path / "a", evaluate=False))
    run_release(_job(demo, tmp_path / "b", evaluate=False))
    for name in ("aggregates.csv", "synthetic.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_checks_before_reading(demo, tmp_path):
    with pytest.raises(ParameterError, match="k must be"):
        _job(demo, tmp_path / "x", mode="k-anonymity", dp=None)
    with pytest.raises(ParameterError, match="mode"):
        _job(demo, tmp_path / "x", mode="l-diversity")
    with pytest.raises(ParameterError):
        _job(demo, tmp_path / "x", dp=DpParameters(epsilon=1, reporting_length=6))
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with pytest.raises(InputError, match="already exists"):
        run_release(_job(demo, tmp_path / "taken"))


def test_k_anonymous_release(demo, tmp_path):
    job = _job(demo, tmp_path / "k", mode="k-anonymity", dp=None, k=5, k_reporting_length=2)
    assert job.reporting_length == 2
    outcome = run_release(job)
    parameters = json.loads((tmp_path / "k" / "parameters.json").read_text())
    assert parameters["mode"] == "k-anonymity"
    assert parameters["k"] == 5
    assert outcome.evaluation["reporting_length"] == 2


@pytest.mark.parametrize(
    "job",
    [
        ReleaseJob(
            data="cases.csv",
            output="out",
            dp=DpParameters(epsilon=2, reporting_length=2, sigma_proportions=(1.0, 2.0)),
            schema=Schema(columns=(ColumnSpec(name="a"), ColumnSpec(name="b"))),
            null_values=("NA",),
            seed=7,
            fabrication_weight=2.5,
        ),
        ReleaseJob(data="cases.csv", output="out", mode="k-anonymity", k=5, k_reporting_length=2),
    ],
    ids=["dp", "k-anonymity"],
)
def test_a_job_survives_its_json_spec(job):
    """The web app hands its worker the job as JSON: nothing may change on the way."""
    spec = json.loads(json.dumps(job.to_spec()))
    again = ReleaseJob.from_spec(spec)
    assert again.to_spec() == job.to_spec()
    assert again.dp == job.dp
    assert again.seed == job.seed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seed": -1}, "seed must be a whole number"),
        ({"seed": 2**64}, "from 0 to 2"),
        ({"null_values": "NA"}, "null values must be a list"),
        ({"colour": "red"}, "Unknown release setting"),
    ],
)
def test_a_spec_is_checked_again(change, message):
    spec = ReleaseJob(data="d.csv", output="o", dp=DpParameters(epsilon=1)).to_spec()
    with pytest.raises(ParameterError, match=message):
        ReleaseJob.from_spec({**spec, **change})


def test_a_k_larger_than_the_data_gets_the_same_sentence_from_the_pipeline(tmp_path):
    """k above the number of records: the web app refuses it from the table's size, the
    pipeline (command line) once the records are read, with one sentence."""
    data = tmp_path / "cases.csv"
    data.write_text("a,b\nx,p\ny,q\nx,q\n", encoding="utf-8")
    job = ReleaseJob(data=data, output=tmp_path / "out", mode="k-anonymity", k=4)
    with pytest.raises(ParameterError) as from_web:
        job.check_record_count(3)
    with pytest.raises(ParameterError) as from_pipeline:
        run_release(job)
    assert str(from_pipeline.value) == str(from_web.value)
    assert str(from_web.value).startswith("k = 4 is more than the 3 records")
    assert not (tmp_path / "out").exists()


def test_aim_and_mst_estimate_the_record_count_when_delta_is_given() -> None:
    def from_marginals(synthesizer: str, **dp: object) -> bool:
        params = DpParameters(epsilon=1, **dp)  # type: ignore[arg-type]
        job = ReleaseJob(data="d.csv", output="o", synthesizer=synthesizer, dp=params)
        assert job.dp is not None
        return job.dp.record_count_from_marginals

    assert from_marginals("aim", delta=1e-6)
    assert from_marginals("mst", delta=1e-6)
    # an inferred δ needs the count first; a public count or an asked share stay as they are
    assert not from_marginals("aim")
    assert not from_marginals("aim", delta=1e-6, record_count_public=100)
    assert not from_marginals("mst", delta=1e-6, number_of_records_epsilon_proportion=0.2)
    # the DP-marginals release protects the count first
    assert not from_marginals("aggregate-seeded", delta=1e-6)
    with pytest.raises(ParameterError, match="aim and mst synthesizers only"):
        from_marginals("aggregate-seeded", delta=1e-6, record_count_from_marginals=True)
