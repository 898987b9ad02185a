"""The report's figures as data: one builder for report.html and the web app's charts."""

from __future__ import annotations

import json

import pytest
from plotly.io.json import to_json_plotly

from dpshowcase.evaluate.report import (
    METRICS_JSON,
    comparison_figures,
    render_report,
    report_figures,
)
from dpshowcase.evaluate.report._charts import (
    MARGIN_TOP,
    TITLE_LINE_CHARS,
    TITLE_LINE_HEIGHT,
    wrap_title,
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
        assert to_json_plotly(f["figure"]["layout"]["title"]["text"])[1:-1] in html


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


def test_titles_fit_a_half_width_cell(metrics):
    # the web app draws each figure in a cell of one run's column (420 pixels or more):
    # Plotly does not wrap titles, so every line must be short and the top margin must
    # hold them all
    figures = [f["figure"] for f in report_figures(metrics)]
    figures += [f["figure"] for f in comparison_figures([("run a", metrics)])]
    lines = {id(f): f["layout"]["title"]["text"].split("<br>") for f in figures}
    too_long = [line for f in figures for line in lines[id(f)] if len(line) > TITLE_LINE_CHARS]
    assert too_long == []
    for figure in figures:
        title = figure["layout"]["title"]
        n = len(lines[id(figure)])
        assert figure["layout"]["margin"]["t"] >= MARGIN_TOP + TITLE_LINE_HEIGHT * (n - 1)
        assert title["yref"] == "container"  # the margin, not the plot, places it
    wrapped = sum(len(v) > 1 for v in lines.values())
    assert wrapped  # the long ones ("Released combinations whose synthetic count ...")


def test_wrap_title_breaks_between_words():
    assert wrap_title("Records per gender") == ["Records per gender"]
    assert wrap_title(
        "Released combinations whose synthetic count is within 10% of the protected count"
    ) == ["Released combinations whose synthetic count", "is within 10% of the protected count"]
    assert wrap_title("Fabricated and suppressed combinations: synthetic vs protected") == [
        "Fabricated and suppressed combinations:",
        "synthetic vs protected",
    ]
    assert wrap_title("a " * 30, width=10) == ["a a a a a"] * 6
    assert wrap_title("x" * 50 + " y", width=10) == ["x" * 50, "y"]
    assert wrap_title("") == []
