"""The report's figures as data: one builder for report.html and the web app's charts."""

from __future__ import annotations

import json

import pytest

from dpshowcase.evaluate.report import (
    METRICS_JSON,
    comparison_figures,
    render_report,
    report_figures,
)


@pytest.fixture(scope="module")
def metrics(release_dir):
    return json.loads((release_dir / METRICS_JSON).read_text(encoding="utf-8"))


def _by_key(metrics):
    return {f["key"]: f for f in report_figures(metrics)}


def test_figures_are_plain_plotly_json(metrics):
    figures = report_figures(metrics)
    assert json.loads(json.dumps(figures, allow_nan=False)) == figures
    for f in figures:
        assert set(f) == {"key", "section", "height", "figure"}
        assert f["figure"]["data"]
        assert f["figure"]["layout"]["height"] == f["height"]


def test_the_report_draws_the_same_figures(metrics):
    html = render_report(metrics)
    figures = report_figures(metrics)
    assert html.count('class="plotly-graph-div"') == len(figures)
    for f in figures:
        assert json.dumps(f["figure"]["layout"]["title"]["text"])[1:-1] in html


def test_figures_hold_the_metrics(metrics):
    figures = _by_key(metrics)
    rows = metrics["combinations"]["protected_vs_synthetic"]["by_length"]
    (trace,) = figures["preservation_by_length"]["figure"]["data"]
    assert trace["x"] == [r["length"] for r in rows if r["reference_combinations"]]
    assert trace["y"] == [100 * r["preservation"] for r in rows if r["reference_combinations"]]
    agreement = metrics["comparability"]["agreement_by_length"]
    (bars,) = figures["agreement"]["figure"]["data"]
    assert bars["y"] == [100 * agreement[k]["share"] for k in sorted(agreement, key=int)]


def test_world_maps_need_no_network(metrics):
    figures = _by_key(metrics)
    assert metrics["map_columns"]
    for column in metrics["map_columns"]:
        figure = figures[f"world_map:{column}"]["figure"]
        (trace,) = figure["data"]
        assert trace["type"] == "choropleth"
        assert trace["locations"] == metrics["distributions"][column]["values"]
        # Plotly fetches the outlines named by scope and resolution (world_110m), from
        # the page's own assets or config.topojsonURL: never a URL in the figure
        assert figure["layout"]["geo"]["resolution"] == 110
        assert "http" not in json.dumps(figure)


def test_sections_follow_the_metrics(metrics):
    sections = {f["section"] for f in report_figures(metrics)}
    assert {"combinations", "comparability", "distributions", "coverage"} <= sections
    assert not sections & {"fidelity", "privacy"}  # a public report has no sensitive data
    assert report_figures({}) == []


def test_comparison_has_one_trace_per_release(metrics):
    other = json.loads(json.dumps(metrics))
    for row in other["combinations"]["protected_vs_synthetic"]["by_length"]:
        row["preservation"] /= 2
    preservation, agreement = comparison_figures([("run a", metrics), ("run b", other)])
    names = [t["name"] for t in preservation["figure"]["data"]]
    assert names == ["run a", "run b"]
    a, b = (t["y"] for t in preservation["figure"]["data"])
    assert b == pytest.approx([y / 2 for y in a])
    assert [t["name"] for t in agreement["figure"]["data"]] == ["run a", "run b"]
    assert "10%" in agreement["figure"]["layout"]["title"]["text"]
    assert [f["figure"]["data"] for f in comparison_figures([("x", {})])] == [[], []]
