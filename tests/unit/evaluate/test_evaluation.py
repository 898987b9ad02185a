"""The whole evaluation of a release: public, with sensitive data, with a holdout."""

from __future__ import annotations

import json

import pytest

from dpshowcase.errors import InputError
from dpshowcase.evaluate.evaluation import METRICS_KEYS, evaluate_release
from dpshowcase.evaluate.release_files import load_release
from dpshowcase.evaluate.report import metrics_json


@pytest.fixture(scope="module")
def full_metrics(release_dir, demo_frames):
    sensitive, holdout = demo_frames
    return evaluate_release(load_release(release_dir), sensitive=sensitive, holdout=holdout)


def test_every_bundle_carries_a_public_report(release_dir):
    metrics = json.loads((release_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["public"] is True
    assert set(metrics) == set(METRICS_KEYS)
    assert metrics["fidelity"] is None
    assert metrics["privacy"] is None
    assert set(metrics["combinations"]) == {"protected_vs_synthetic"}
    assert metrics["comparability"]["agreement_by_length"].keys() <= {"1", "2", "3"}
    assert metrics["release"]["not_for_release"] is True
    assert "CountryOfExploitation" in metrics["coverage"]["columns"]
    assert "dataSource" in metrics["coverage"]["columns"]
    assert set(metrics["map_columns"]) == {"citizenship", "CountryOfExploitation"}
    html = (release_dir / "report.html").read_text(encoding="utf-8")
    assert "may be published with it" in html
    manifest = json.loads((release_dir / "manifest.json").read_text(encoding="utf-8"))
    assert {"report.html", "metrics.json"} <= set(manifest["files"])


def test_full_evaluation_has_every_metric(full_metrics):
    m = full_metrics
    assert set(m) == set(METRICS_KEYS)
    assert m["public"] is False
    assert set(m["combinations"]) == {
        "sensitive_vs_protected",
        "sensitive_vs_synthetic",
        "protected_vs_synthetic",
    }
    assert m["sizes"]["sensitive_records"] == 1_200
    assert m["sizes"]["record_expansion"] == pytest.approx(m["sizes"]["synthetic_records"] / 1_200)
    marginals = m["fidelity"]["marginals"]
    assert set(marginals["mean_tvd"]) == {"1", "2", "3"}
    assert 0 <= marginals["k_marginal_score"] <= 1000
    assert 0 <= m["fidelity"]["propensity"]["pmse"] <= 0.25
    matches = m["privacy"]["matches"]
    assert matches["sensitive_records"] == 1_200
    audit = m["privacy"]["membership_audit"]
    assert audit["source"] == "holdout"
    assert audit["epsilon"] == 4.0
    assert audit["consistent"] in (True, False)
    dcr = m["privacy"]["distance_to_closest"]
    assert sum(dcr["synthetic_histogram"]) == dcr["sample"]
    suppression = m["coverage"]["suppression"]["citizenship"]
    assert suppression["suppressed_values"] is not None
    # metrics.json is strict JSON
    json.loads(metrics_json(m))


def test_rerelease_audit_without_holdout(release_dir, demo_frames):
    sensitive, _ = demo_frames
    m = evaluate_release(load_release(release_dir), sensitive=sensitive)
    audit = m["privacy"]["membership_audit"]
    assert audit["source"] == "re-release"
    assert audit["members"] == audit["non_members"] == 600
    assert audit["consistent"] is True


def test_no_audit_when_not_asked(release_dir, demo_frames):
    sensitive, _ = demo_frames
    m = evaluate_release(load_release(release_dir), sensitive=sensitive, audit=False)
    assert m["privacy"]["membership_audit"] is None
    assert any("not asked" in n for n in m["notes"])


def test_release_folder_errors_are_one_sentence(tmp_path, release_dir):
    with pytest.raises(InputError, match="does not exist"):
        load_release(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"parameters\.json is missing"):
        load_release(tmp_path / "empty")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "parameters.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        load_release(broken)
