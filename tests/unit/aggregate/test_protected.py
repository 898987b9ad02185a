"""The sensitive/public boundary as a type: who may make ProtectedAggregates.

Protected aggregates come only out of a mechanism (``issue_protected``, imported by the
DP and k-anonymity mechanisms alone) or out of other protected aggregates
(``derive``, post-processing). Exact counts cannot be dressed up as protected ones, not
by calling the class and not by ``dataclasses.replace``; tests that need hand-made
aggregates use the named bypass ``dpshowcase.testing.protected_aggregates_for_tests``.
AIM's and MST's ``MarginalMeasurements`` are held to the same rule: only the mechanism
run in ``privacy/aim.py`` makes them.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.aggregate.protected import LengthNoise, NoiseDescription, ProtectedAggregates
from dpshowcase.data.encode import PublicRecords, SensitiveData, encode_public
from dpshowcase.data.prepare import prepare
from dpshowcase.errors import ParameterError
from dpshowcase.kanon.protect import k_protect
from dpshowcase.kanon.records import Records
from dpshowcase.kanon.seeded import RowSeededSynthesizer
from dpshowcase.privacy.accounting import DpParameters
from dpshowcase.privacy.aim import MarginalMeasurements, MstMechanism
from dpshowcase.privacy.marginals import DPMarginals
from dpshowcase.schema.model import Schema
from dpshowcase.synthesize.aggregate_seeded import AggregateSeededSynthesizer

SRC = Path(__file__).resolve().parents[3] / "src" / "dpshowcase"
MINTERS = {"privacy/marginals.py", "privacy/aim.py", "kanon/protect.py", "testing.py"}
"""The only modules that may import issue_protected: the mechanisms and the bypass."""
TOKENS = ("issue_protected", "_ISSUED", "_MEASURED")
"""What mints protected objects: ProtectedAggregates' and MarginalMeasurements' proofs."""


@pytest.fixture(scope="module")
def sensitive() -> SensitiveData:
    rng = np.random.default_rng(0)
    rows = 400
    return prepare(
        pl.DataFrame(
            {
                "a": rng.choice(["x", "y", "z"], rows).tolist(),
                "b": rng.choice(["p", "q"], rows).tolist(),
            }
        )
    )


@pytest.fixture(scope="module")
def dp(sensitive) -> ProtectedAggregates:
    return DPMarginals(epsilon=4, reporting_length=2, seed=1).fit(sensitive)


def test_exact_counts_cannot_be_made_protected_by_calling_the_class(sensitive):
    exact = count_combinations(sensitive, 2)
    with pytest.raises(TypeError, match="only out of a protection mechanism"):
        ProtectedAggregates(
            counts=exact,
            record_count=sensitive.n_records,
            mode="dp",
            guarantee="ε-DP (not really)",
        )


def test_exact_counts_cannot_be_swapped_into_protected_ones(sensitive, dp):
    exact = count_combinations(sensitive, 2)
    with pytest.raises(TypeError, match="only out of a protection mechanism"):
        dataclasses.replace(dp, counts=exact)


def test_only_the_mechanisms_import_issue_protected():
    importers = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and any(
                a.name in TOKENS for a in node.names
            ):
                importers.add(path.relative_to(SRC).as_posix())
            if isinstance(node, ast.Attribute) and node.attr in TOKENS:
                importers.add(path.relative_to(SRC).as_posix())
    assert importers <= MINTERS, f"issue_protected used outside the mechanisms: {importers}"
    assert {"privacy/marginals.py", "kanon/protect.py"} <= importers


def test_only_aim_mints_marginal_measurements():
    """The proof of origin of MarginalMeasurements is named in privacy/aim.py alone."""
    users = {
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if (isinstance(node, ast.Name) and node.id == "_MEASURED")
        or (isinstance(node, ast.Attribute) and node.attr == "_MEASURED")
        or (isinstance(node, ast.ImportFrom) and any(a.name == "_MEASURED" for a in node.names))
    }
    assert users == {"privacy/aim.py"}


def test_marginal_measurements_come_only_out_of_a_mechanism(sensitive):
    """AIM/MST measurements cannot be built by hand nor altered with replace; a
    mechanism run makes them (a seeded MST run on the two-column data)."""
    params = DpParameters(epsilon=1.0, delta=1e-5)
    measured = MstMechanism(params, estimation_iters=10, seed=3).fit(sensitive)
    assert isinstance(measured, MarginalMeasurements)
    with pytest.raises(TypeError, match="only out of a protection mechanism"):
        dataclasses.replace(measured, record_count=sensitive.n_records)
    fields = {f.name: getattr(measured, f.name) for f in dataclasses.fields(MarginalMeasurements)}
    with pytest.raises(TypeError, match="only out of a protection mechanism"):
        MarginalMeasurements(**fields)


def test_mechanisms_make_protected_aggregates(sensitive, dp):
    assert isinstance(dp, ProtectedAggregates)
    k = k_protect(count_combinations(sensitive, 2), sensitive.n_records, 5)
    assert isinstance(k, ProtectedAggregates)
    assert k.mode == "k-anonymity"
    assert k.noise is None


def test_dp_aggregates_carry_a_typed_noise_description(dp):
    noise = dp.noise
    assert isinstance(noise, NoiseDescription)
    assert [n.length for n in noise.lengths] == [1, 2]
    for entry in dp.parameters["lengths"]:  # the same figures parameters.json states
        assert noise.scale(entry["length"]) == pytest.approx(entry["noise_scale"])
        assert noise.threshold(entry["length"]) == pytest.approx(entry["threshold"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        noise.lengths[0].noise_scale = 1.0  # type: ignore[misc]


def test_derive_keeps_the_protection(dp):
    fitted = dp.derive(counts=dp.counts.with_counts(dp.counts.counts + 1))
    assert fitted.mode == dp.mode
    assert fitted.guarantee == dp.guarantee
    assert fitted.noise is dp.noise
    assert fitted.private == dp.private
    assert fitted.record_count == dp.record_count
    assert (fitted.counts.counts == dp.counts.counts + 1).all()


@pytest.mark.parametrize(
    ("lengths", "message"),
    [
        ((LengthNoise(length=2, noise_scale=1.0, threshold=0.0, sensitivity=1),), "1..R"),
        ((), None),
    ],
)
def test_noise_description_lists_lengths_in_order(lengths, message):
    if message is None:
        assert NoiseDescription(lengths).lengths == ()
    else:
        with pytest.raises(TypeError, match=message):
            NoiseDescription(lengths)


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf")])
def test_a_noise_scale_must_be_positive_and_finite(scale):
    with pytest.raises(TypeError, match="noise scale"):
        LengthNoise(length=1, noise_scale=scale, threshold=0.0, sensitivity=1)


def test_the_synthesizer_takes_protected_aggregates_only(sensitive):
    for wrong in (sensitive, count_combinations(sensitive, 2)):
        with pytest.raises(ParameterError, match="protected aggregates only"):
            AggregateSeededSynthesizer().fit(wrong)  # type: ignore[arg-type]


def test_released_records_are_public_not_sensitive(sensitive):
    frame = pl.DataFrame({"a": ["x", "y"], "b": ["p", ""]})
    public = encode_public(frame, Schema.all_categorical(["a", "b"]))
    assert isinstance(public, PublicRecords)
    assert not isinstance(public, SensitiveData)
    records = Records(sensitive.attributes, sensitive.indptr, sensitive.indices)
    assert isinstance(records.as_data(sensitive.schema), PublicRecords)
    # counting reads both; a k-anonymity synthesizer (which reads sensitive data) refuses it
    assert count_combinations(public, 2).counts.sum() > 0
    with pytest.raises(ParameterError, match="takes encoded sensitive data"):
        RowSeededSynthesizer(5).fit(public)  # type: ignore[arg-type]
