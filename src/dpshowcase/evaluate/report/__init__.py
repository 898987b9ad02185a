"""The evaluation report: one self-contained HTML page, and metrics.json beside it.

:func:`render_report` turns the metrics of
:func:`~dpshowcase.evaluate.evaluation.evaluate_release` into HTML; it reads nothing
else, so the report shows exactly what metrics.json holds. The page makes no network
request: Plotly's JavaScript is embedded inline, and the world map's outlines
(``world_110m.json``, see NOTICE.md) are handed to Plotly as preloaded geo assets
instead of being fetched from Plotly's CDN.

:func:`report_figures` gives the report's figures as Plotly JSON (the web app draws them
with Plotly.newPlot), and :func:`comparison_figures` compares several releases.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

from dpshowcase._io.atomic import atomic_write_text
from dpshowcase.evaluate.report._charts import CONFIG, across_releases, report_charts
from dpshowcase.evaluate.report._page import render_page

__all__ = [
    "CONFIG",
    "METRICS_JSON",
    "REPORT_HTML",
    "comparison_figures",
    "render_report",
    "report_figures",
    "world_ids",
    "write_report",
]

REPORT_HTML = "report.html"
METRICS_JSON = "metrics.json"


def render_report(metrics: dict[str, Any]) -> str:
    """The report as one HTML document (several MB: Plotly is inline)."""
    return render_page(
        metrics, world_topojson=_world_text() if metrics.get("map_columns") else None
    )


def report_figures(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's figures as Plotly JSON, in the report's order.

    Each is ``{"key", "section", "height", "figure": {"data", "layout"}}``; ``key`` and
    ``section`` are those of :class:`~dpshowcase.evaluate.report._charts.Chart`. A world
    map needs the outlines ``world_110m.json`` (this package's file) from Plotly's
    ``topojsonURL``.
    """
    return [
        {
            "key": chart.key,
            "section": chart.section,
            "height": chart.height,
            "figure": _figure_json(chart.figure),
        }
        for chart in report_charts(metrics)
    ]


def comparison_figures(releases: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Figures comparing releases, given as (label, metrics) pairs, as Plotly JSON."""
    return [{"figure": _figure_json(figure)} for figure in across_releases(releases)]


def _figure_json(figure: Any) -> dict[str, Any]:
    # Plotly's own encoder: numpy values become numbers, NaN becomes null
    return dict(json.loads(figure.to_json()))


def write_report(metrics: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write ``folder/report.html`` and ``folder/metrics.json``, each atomically."""
    folder = Path(folder)
    html_path = folder / REPORT_HTML
    json_path = folder / METRICS_JSON
    atomic_write_text(json_path, metrics_json(metrics))
    atomic_write_text(html_path, render_report(metrics))
    return html_path, json_path


def metrics_json(metrics: dict[str, Any]) -> str:
    """metrics.json text: indented, UTF-8, no NaN (a missing value is null)."""
    return json.dumps(_finite(metrics), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return _finite(value.item())
    return value


@functools.cache
def _world_text() -> str:
    return resources.files(__name__).joinpath("world_110m.json").read_text(encoding="utf-8")


@functools.cache
def world_ids() -> frozenset[str]:
    """The ISO-3 codes the world map can draw."""
    data = json.loads(_world_text())
    return frozenset(
        str(g["id"]) for g in data["objects"]["countries"]["geometries"] if g.get("id")
    )
