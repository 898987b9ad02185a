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
