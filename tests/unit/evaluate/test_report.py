"""The HTML report and metrics.json, without a browser (see tests/e2e for one)."""

from __future__ import annotations

import json
import re

from dpshowcase.evaluate.report import (
    METRICS_JSON,
    REPORT_HTML,
    metrics_json,
    render_report,
    world_ids,
    write_report,
)


def _metrics(release_dir):
    return json.loads((release_dir / METRICS_JSON).read_text(encoding="utf-8"))


def test_the_page_loads_nothing_from_elsewhere(release_dir):
    html = render_report(_metrics(release_dir))
    assert html.startswith("<!DOCTYPE html>")
    # no external script, stylesheet, image, frame or font: everything is inline
    assert not re.search(r"<(script|img|iframe|link)[^>]+(src|href)=", html, re.I)
    assert "@import" not in html
    assert "default-src 'none'" in html  # and the page forbids any request anyway
    assert "window.PlotlyGeoAssets" in html  # the world map's outlines are preloaded


def test_sections_and_caveats(release_dir):
    html = render_report(_metrics(release_dir))
    for heading in (
        "Summary",
        "Parameters",
        "How combination counts survive",
        "Data comparability",
        "Coverage",
        "What was suppressed, and why",
        "Caveats, in plain words",
    ):
        assert heading in html
    assert "NOT FOR RELEASE" in html  # the demo release was seeded
    assert "Needs the sensitive data" in html


def test_no_map_without_country_columns(release_dir):
    metrics = _metrics(release_dir)
    metrics["map_columns"] = []
    assert "topojson['world_110m']" not in render_report(metrics)


def test_metrics_json_is_strict(tmp_path):
    text = metrics_json({"a": float("nan"), "b": [float("inf"), 1.5], "c": (1, 2)})
    assert json.loads(text) == {"a": None, "b": [None, 1.5], "c": [1, 2]}


def test_write_report_writes_both_files(tmp_path, release_dir):
    html_path, json_path = write_report(_metrics(release_dir), tmp_path)
    assert html_path.name == REPORT_HTML
    assert json_path.name == METRICS_JSON
    assert json.loads(json_path.read_text(encoding="utf-8"))["public"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == [METRICS_JSON, REPORT_HTML]


def test_world_ids_are_iso3():
    ids = world_ids()
    assert {"FRA", "USA", "PHL", "NGA"} <= ids
    assert all(len(i) == 3 for i in ids)


def _caveat(html: str) -> str:
    return html.split("Use the protected counts for figures.</b>")[1].split("</li>")[0]


def test_the_report_says_only_what_the_comparison_found(release_dir):
    """An exact fit is called exact (not "do not match"), with no table of +0 rows."""
    metrics = _metrics(release_dir)
    comp = metrics["comparability"]
    for row in comp["agreement_by_length"].values():
        row["agrees"] = row["released"]
    comp["largest_disagreements"] = []
    html = render_report(metrics)
    assert "reproduce every released count exactly" in _caveat(html)
    assert "do not" not in _caveat(html)
    assert "No released combination disagrees" in html
    assert "disagree most" not in html

    comp["largest_disagreements"] = [
        {"combination": "a:x", "length": 1, "protected": 5, "synthetic": 3,
         "difference": -2, "ratio": 0.6}
    ]  # fmt: skip
    next(iter(comp["agreement_by_length"].values()))["agrees"] -= 1
    html = render_report(metrics)
    assert "do not all match" in _caveat(html)
    assert "No released combination disagrees" not in html
    assert "<td class='n'>-2</td>" in html


def test_a_threshold_of_zero_is_explained(release_dir):
    metrics = _metrics(release_dir)
    lengths = metrics["release"]["parameters"]["lengths"]
    lengths[-1]["threshold"] = 0
    html = render_report(metrics)
    assert f"Length {lengths[-1]['length']}: A threshold of 0 releases every candidate" in html
    for entry in lengths:
        entry["threshold"] = 7
    assert "A threshold of 0" not in render_report(metrics)


def test_identical_unique_and_held_by_k_are_defined_side_by_side(release_dir):
    metrics = _metrics(release_dir)
    metrics["privacy"] = {
        "matches": {
            "exact_matches": 10, "exact_match_share": 0.1, "unique_matches": 4,
            "unique_match_share": 0.04, "sensitive_uniques": 50,
            "sensitive_uniques_matched": 4, "sensitive_uniques_matched_share": 0.08,
        }
    }  # fmt: skip
    html = render_report(metrics)
    assert "<b>Identical</b> means equal in every column" in html
    assert "<b>held by</b>" not in html  # a DP release states no k
    metrics["release"]["mode"] = "k-anonymity"
    html = render_report(metrics)
    assert "<b>held by</b> at least k real records" in html
    assert "can still be identical to one of them that is unique" in html
