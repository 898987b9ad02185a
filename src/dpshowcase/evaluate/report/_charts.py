"""Plotly figures of the report, each built from a part of metrics.json.

:func:`report_charts` is the one place that decides which figures a report has: the
HTML report draws them inline (:func:`to_div`) and the web app sends the same figures
as Plotly JSON to its Evaluate step.
"""

from __future__ import annotations

import hashlib
import math
import textwrap
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

COLORS = {
    "sensitive": "#4c4c4c",
    "protected": "#1f6fb2",
    "synthetic": "#e07b39",
    "bound": "#b8322a",
}
PAIR_NAMES = {
    "sensitive_vs_protected": "protected vs sensitive",
    "sensitive_vs_synthetic": "synthetic vs sensitive",
    "protected_vs_synthetic": "synthetic vs protected",
}
PAIR_COLORS = {
    "sensitive_vs_protected": COLORS["protected"],
    "sensitive_vs_synthetic": COLORS["synthetic"],
    "protected_vs_synthetic": "#6a4c93",
}
RUN_COLORS = ("#1f5fa8", "#e39b2d", "#2f8f5b", "#8e44ad", "#c0392b", "#5d6d7e")
"""One colour per release when several are compared (the web app's run colours)."""
CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class Chart:
    """One figure of the report, laid out and ready to draw."""

    key: str
    """Stable name: the figure's function, then ``:`` and the column or pair it shows."""
    section: str
    """The report section (its HTML anchor) the figure belongs to."""
    figure: go.Figure
    height: int
    """Height in pixels (also set in the figure's layout)."""


def report_charts(metrics: dict[str, Any]) -> list[Chart]:
    """Every figure the report of ``metrics`` shows, in the order it shows them."""
    charts: list[Chart] = []

    def add(key: str, section: str, figure: go.Figure, height: int) -> None:
        charts.append(Chart(key, section, styled(figure, height), height))

    combos = metrics.get("combinations") or {}
    if combos:
        add("preservation_by_length", "combinations", preservation_by_length(combos), 380)
        add("preservation_by_bucket", "combinations", preservation_by_bucket(combos), 380)
        add("mean_counts", "combinations", mean_counts(combos), 380)
        for key, result in combos.items():
            figure = fabricated_suppressed(key, result)
            add(f"fabricated_suppressed:{key}", "combinations", figure, 340)
    comparability = metrics.get("comparability")
    if comparability:
        add("agreement", "comparability", agreement(comparability), 330)
    dists = metrics.get("distributions") or {}
    fidelity = metrics.get("fidelity") or {}
    if dists:
        add("distributions", "distributions", distributions(dists), 440)
        one_way = (fidelity.get("marginals") or {}).get("one_way")
        if one_way:
            title = "How far each column's distribution moved (synthetic vs sensitive)"
            add("column_tvd", "distributions", column_tvd(one_way, title), 380)
        for column in metrics.get("map_columns") or []:
            data = dists.get(column)
            if data:
                source = next(s for s in ("protected", "sensitive", "synthetic") if s in data)
                add(f"world_map:{column}", "distributions", world_map(column, data, source), 480)
    for column, data in ((metrics.get("coverage") or {}).get("columns") or {}).items():
        add(f"coverage:{column}", "coverage", coverage_bars(column, data), 400)
    if fidelity.get("marginals"):
        add("tvd_by_order", "fidelity", tvd_by_order(fidelity["marginals"]), 330)
    privacy = metrics.get("privacy") or {}
    if privacy.get("distance_to_closest"):
        add("dcr", "privacy", dcr(privacy["distance_to_closest"]), 360)
    if privacy.get("membership_audit"):
        add("audit_roc", "privacy", audit_roc(privacy["membership_audit"]), 420)
    return charts


TITLE_SIZE = 16
"""Font size of a figure's title, in pixels."""
TITLE_LINE_CHARS = 44
"""Longest line of a title, in characters: at TITLE_SIZE it fits the narrowest cell the
web app draws a figure in (420 pixels: one column per run), so no title is cut off."""
TITLE_LINE_HEIGHT = 21
"""Height of one line of a title, in pixels (Plotly spaces lines 1.3 font sizes apart)."""
TITLE_MIDDLE = 20
"""Pixels from the figure's top edge to the middle of its title's first line (further
lines go below it, into the top margin they add)."""
MARGIN_TOP = 50
"""Top margin of a figure whose title is one line; each further line adds a line height."""
MARGIN_BOTTOM = 50
"""Bottom margin: the x axis's tick labels and title (Plotly widens it for long labels)."""
LEGEND_ROOM = 36
"""Pixels the legend takes below the x axis's title (one row of entries)."""


def wrap_title(text: str, width: int = TITLE_LINE_CHARS) -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken between words.

    A title that does not fit on one line breaks after its colon first, if it has one
    ("Records per column: what they show"); a single word longer than ``width`` stays
    whole on its own line.
    """
    text = " ".join(text.split())
    if len(text) <= width:
        return [text] if text else []
    head, colon, tail = text.partition(": ")
    if colon and len(head) < width:
        return [head + ":", *wrap_title(tail, width)]
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)


def styled(fig: go.Figure, height: int) -> go.Figure:
    """The report's look: size, margins, white template, system font, legend at the bottom.

    The title is wrapped (:func:`wrap_title`) and the top margin grows with its lines, so
    that a long title fits a half-width cell of the web app instead of being cut off.
    """
    lines = wrap_title(fig.layout.title.text or "")
    legend = sum(1 for trace in fig.data if trace.showlegend is not False) > 1
    fig.update_layout(
        height=height,
        margin={
            "l": 60,
            "r": 20,
            "t": MARGIN_TOP + TITLE_LINE_HEIGHT * max(len(lines) - 1, 0),
            "b": MARGIN_BOTTOM + (LEGEND_ROOM if legend else 0),
        },
        template="plotly_white",
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13},
        title={
            "text": "<br>".join(lines),
            "font": {"size": TITLE_SIZE},
            "yref": "container",
            "y": 1 - TITLE_MIDDLE / height,
            "yanchor": "middle",
        },
        # the legend sits at the figure's bottom edge, under the axis title (placed in
        # plot coordinates it would overlap the axis title in a short figure)
        legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},
    )
    return fig


def to_div(chart: Chart) -> str:
    """The chart as a <div> and the script drawing it (Plotly itself is in the page).

    The div's id comes from the chart's stable key (Plotly's default is a random UUID),
    so the same metrics always give the same bytes.
    """
    digest = hashlib.sha256(chart.key.encode("utf-8")).hexdigest()[:16]
    return pio.to_html(
        chart.figure,
        include_plotlyjs=False,
        full_html=False,
        config=CONFIG,
        div_id=f"chart-{digest}",
    )


def across_releases(releases: list[tuple[str, dict[str, Any]]]) -> list[go.Figure]:
    """Figures comparing several releases, one line or bar colour each.

    ``releases`` are (label, metrics) pairs. Preservation of the protected counts in the
    synthetic records and their agreement within the tolerance, both by combination
    length; a release whose metrics lack one is left out of that figure.
    """
    preservation = go.Figure()
    agreeing = go.Figure()
    tolerance = None
    for i, (label, metrics) in enumerate(releases):
        color = RUN_COLORS[i % len(RUN_COLORS)]
        result = (metrics.get("combinations") or {}).get("protected_vs_synthetic")
        if result:
            rows = [r for r in result["by_length"] if r["reference_combinations"]]
            preservation.add_trace(
                go.Scatter(
                    x=[r["length"] for r in rows],
                    y=[100 * r["preservation"] for r in rows],
                    mode="lines+markers",
                    name=label,
                    line={"color": color},
                    hovertemplate="length %{x}: %{y:.1f}% preserved",
                )
            )
        comparability = metrics.get("comparability")
        if comparability:
            tolerance = comparability["tolerance"]
            by_length = comparability["agreement_by_length"]
            lengths = sorted(by_length, key=int)
            agreeing.add_trace(
                go.Bar(
                    x=[int(k) for k in lengths],
                    y=[100 * by_length[k]["share"] for k in lengths],
                    name=label,
                    marker_color=color,
                    hovertemplate="length %{x}: %{y:.1f}% agree",
                )
            )
    preservation.update_layout(
        title="Preservation of the protected counts by combination length",
        xaxis={"title": "attributes in the combination", "dtick": 1},
        yaxis={"title": "mean preservation (%)", "range": [0, 105]},
    )
    agreeing.update_layout(
        barmode="group",
        title="Released combinations whose synthetic count agrees"
        + (f" (±{tolerance:.0%})" if tolerance is not None else ""),
        xaxis={"title": "attributes in the combination", "dtick": 1},
        yaxis={"title": "share that agrees (%)", "range": [0, 105]},
    )
    return [styled(preservation, 380), styled(agreeing, 380)]


def preservation_by_length(combinations: dict[str, Any]) -> go.Figure:
    fig = go.Figure()
    for key, result in combinations.items():
        rows = [r for r in result["by_length"] if r["reference_combinations"]]
        fig.add_trace(
            go.Scatter(
                x=[r["length"] for r in rows],
                y=[100 * r["preservation"] for r in rows],
                mode="lines+markers",
                name=PAIR_NAMES[key],
                line={"color": PAIR_COLORS[key]},
                hovertemplate="length %{x}: %{y:.1f}% preserved<extra></extra>",
            )
        )
    fig.update_layout(
        title="Preservation by combination length",
        xaxis={"title": "attributes in the combination", "dtick": 1},
        yaxis={"title": "mean preservation (%)", "range": [0, 105]},
    )
    return fig


def preservation_by_bucket(combinations: dict[str, Any]) -> go.Figure:
    fig = go.Figure()
    for key, result in combinations.items():
        rows = result["by_bucket"]
        fig.add_trace(
            go.Scatter(
                x=[f"{r['lower'] + 1}–{r['upper']}" for r in rows],
                y=[100 * r["preservation"] for r in rows],
                mode="lines+markers",
                name=PAIR_NAMES[key],
                line={"color": PAIR_COLORS[key]},
                customdata=[[r["combinations"], r["mean_proportional_error"]] for r in rows],
                hovertemplate=(
                    "count %{x}: %{y:.1f}% preserved, %{customdata[0]:,} combinations, "
                    "mean error %{customdata[1]:.0%}<extra></extra>"
                ),
            )
        )
    fig.update_layout(
        title="Preservation by size of the true (reference) count",
        xaxis={"title": "reference count", "type": "category"},
        yaxis={"title": "mean preservation (%)", "range": [0, 105]},
    )
    return fig


def fabricated_suppressed(key: str, result: dict[str, Any]) -> go.Figure:
    rows = result["by_length"]
    lengths = [r["length"] for r in rows]
    fig = go.Figure(
        [
            go.Bar(
                x=lengths,
                y=[r["fabricated"] for r in rows],
                name="fabricated (in the output only)",
                marker_color=COLORS["synthetic"],
            ),
            go.Bar(
                x=lengths,
                y=[r["suppressed"] for r in rows],
                name="suppressed (in the reference only)",
                marker_color=COLORS["sensitive"],
            ),
            go.Bar(
                x=lengths,
                y=[r["common"] for r in rows],
                name="in both",
                marker_color=COLORS["protected"],
                visible="legendonly",
            ),
        ]
    )
    fig.update_layout(
        barmode="group",
        title=f"Fabricated and suppressed combinations: {PAIR_NAMES[key]}",
        xaxis={"title": "attributes in the combination", "dtick": 1},
        yaxis={"title": "combinations"},
    )
    return fig


def mean_counts(combinations: dict[str, Any]) -> go.Figure:
    seen: dict[str, list[float]] = {}
    lengths: list[int] = []
    for result in combinations.values():
        rows = result["by_length"]
        lengths = [r["length"] for r in rows]
        seen.setdefault(result["reference"], [r["reference_mean_count"] for r in rows])
        seen.setdefault(result["output"], [r["output_mean_count"] for r in rows])
    fig = go.Figure(
        [
            go.Bar(x=lengths, y=values, name=name, marker_color=COLORS[name])
            for name, values in seen.items()
        ]
    )
    fig.update_layout(
        barmode="group",
        title="Mean count of a combination, by length",
        xaxis={"title": "attributes in the combination", "dtick": 1},
        yaxis={"title": "mean count", "type": "log", "dtick": "D2"},  # 1, 2, 5 per decade
    )
    return fig


def agreement(comparability: dict[str, Any]) -> go.Figure:
    rows = comparability["agreement_by_length"]
    lengths = sorted(rows, key=int)
    fig = go.Figure(
        go.Bar(
            x=[int(k) for k in lengths],
            y=[100 * rows[k]["share"] for k in lengths],
            marker_color=COLORS["protected"],
            customdata=[[rows[k]["agrees"], rows[k]["released"]] for k in lengths],
            hovertemplate=(
                "length %{x}: %{customdata[0]:,} of %{customdata[1]:,} agree "
                "(%{y:.1f}%)<extra></extra>"
            ),
        )
    )
    fig.update_layout(
        title=(
            "Released combinations whose synthetic count is within "
            f"{comparability['tolerance']:.0%} of the protected count"
        ),
        xaxis={"title": "attributes in the combination", "dtick": 1},
        yaxis={"title": "share that agrees (%)", "range": [0, 105]},
    )
    return fig


def distributions(dists: dict[str, Any]) -> go.Figure:
    """One grouped bar chart per column, switched with a drop-down menu."""
    fig = go.Figure()
    sources = ["sensitive", "protected", "synthetic"]
    columns = list(dists)
    traces_per_column: list[int] = []
    for i, column in enumerate(columns):
        data = dists[column]
        n = 0
        for source in sources:
            if source not in data:
                continue
            counts = data[source]
            total = sum(counts) or 1
            fig.add_trace(
                go.Bar(
                    x=[v if v else "(none)" for v in data["values"]],
                    y=[100 * c / total for c in counts],
                    customdata=counts,
                    name=source,
                    marker_color=COLORS[source],
                    visible=i == 0,
                    hovertemplate=f"{source}: %{{customdata:,}} (%{{y:.1f}}%)<extra>%{{x}}</extra>",
                )
            )
            n += 1
        traces_per_column.append(n)
    buttons = []
    start = 0
    total_traces = sum(traces_per_column)
    for column, n in zip(columns, traces_per_column, strict=True):
        visible = [False] * total_traces
        visible[start : start + n] = [True] * n
        buttons.append(
            {
                "label": column,
                "method": "update",
                "args": [{"visible": visible}, {"title.text": column}],
            }
        )
        start += n
    fig.update_layout(
        barmode="group",
        title=columns[0] if columns else "",
        yaxis={"title": "share of the column's counted values (%)"},
        updatemenus=[
            {"buttons": buttons, "direction": "down", "x": 1.0, "xanchor": "right", "y": 1.25}
        ]
        if buttons
        else [],
    )
    return fig


def column_tvd(one_way: dict[str, float], title: str) -> go.Figure:
    items = sorted(one_way.items(), key=lambda kv: -kv[1])[:40]
    fig = go.Figure(
        go.Bar(
            x=[k for k, _ in items],
            y=[v for _, v in items],
            marker_color=COLORS["synthetic"],
            hovertemplate="%{x}: TVD %{y:.3f}<extra></extra>",
        )
    )
    fig.update_layout(title=title, yaxis={"title": "total variation distance"})
    return fig


def world_map(column: str, data: dict[str, Any], source: str) -> go.Figure:
    values = data["values"]
    counts = data[source]
    others = {s: data[s] for s in ("sensitive", "protected", "synthetic") if s in data}
    hover = ["<br>".join(f"{s}: {others[s][i]:,}" for s in others) for i in range(len(values))]
    fig = go.Figure(
        go.Choropleth(
            locations=values,
            z=[math.log10(c) if c > 0 else None for c in counts],
            locationmode="ISO-3",
            colorscale="Blues",
            text=hover,
            hovertemplate="%{location}<br>%{text}<extra></extra>",
            colorbar={
                "title": f"{source} count",
                "tickvals": [0, 1, 2, 3, 4, 5, 6],
                "ticktext": ["1", "10", "100", "1k", "10k", "100k", "1M"],
            },
        )
    )
    fig.update_layout(
        title=f"{column}: {source} count per country",
        geo={
            "scope": "world",
            "resolution": 110,
            "showframe": False,
            "showcoastlines": True,
            "showland": True,
            "landcolor": "#f2f2f2",
            "showcountries": True,
            "countrycolor": "#c8c8c8",
            # centred on Greenwich: left alone, Plotly centres the map on the countries drawn
            "projection": {"type": "natural earth", "rotation": {"lon": 0}},
        },
    )
    return fig


def coverage_bars(column: str, data: dict[str, Any], top: int = 30) -> go.Figure:
    fig = go.Figure()
    values = data["values"][:top]
    for source in ("sensitive", "protected", "synthetic"):
        counts = data.get(source)
        if counts is None:
            continue
        fig.add_trace(
            go.Bar(
                x=[v if v else "(none)" for v in values],
                y=counts[:top],
                name=source,
                marker_color=COLORS[source],
            )
        )
    fig.update_layout(barmode="group", title=f"Records per {column}", yaxis={"title": "records"})
    return fig


def tvd_by_order(marginals: dict[str, Any]) -> go.Figure:
    orders = sorted(marginals["mean_tvd"], key=int)
    fig = go.Figure(
        [
            go.Bar(
                x=[f"{k}-way" for k in orders],
                y=[marginals["mean_tvd"][k] for k in orders],
                name="mean",
                marker_color=COLORS["synthetic"],
            ),
            go.Bar(
                x=[f"{k}-way" for k in orders],
                y=[marginals["max_tvd"][k] for k in orders],
                name="worst",
                marker_color=COLORS["sensitive"],
            ),
        ]
    )
    fig.update_layout(
        barmode="group",
        title="Total variation distance of marginals (0 = identical)",
        yaxis={"title": "TVD", "range": [0, 1]},
    )
    return fig


def dcr(distance: dict[str, Any]) -> go.Figure:
    syn = distance["synthetic_histogram"]
    base = distance["baseline_histogram"]
    top = max([i for i, v in enumerate(syn) if v] + [i for i, v in enumerate(base) if v] + [0])
    xs = list(range(top + 1))
    fig = go.Figure(
        [
            go.Bar(
                x=xs,
                y=[100 * v / (sum(syn) or 1) for v in syn[: top + 1]],
                name="synthetic → closest sensitive",
                marker_color=COLORS["synthetic"],
            ),
            go.Bar(
                x=xs,
                y=[100 * v / (sum(base) or 1) for v in base[: top + 1]],
                name="sensitive → closest other sensitive (baseline)",
                marker_color=COLORS["sensitive"],
            ),
        ]
    )
    fig.update_layout(
        barmode="group",
        title="Distance to the closest sensitive record",
        xaxis={"title": "columns that differ", "dtick": 1},
        yaxis={"title": "share of sampled records (%)"},
    )
    return fig


def audit_roc(audit: dict[str, Any]) -> go.Figure:
    fig = go.Figure()
    fpr = [0.0, *audit["fpr"]]
    tpr = [0.0, *audit["tpr"]]
    fig.add_trace(
        go.Scatter(
            x=fpr,
            y=tpr,
            mode="lines+markers",
            name="attack (distance threshold)",
            line={"color": COLORS["synthetic"]},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="guessing",
            line={"color": "#999", "dash": "dot"},
        )
    )
    if audit.get("epsilon") is not None:
        eps, delta = float(audit["epsilon"]), float(audit["delta"])
        grid = [i / 200 for i in range(201)]
        bound = [
            min(1.0, math.exp(eps) * x + delta, 1.0 - math.exp(-eps) * (1.0 - delta - x))
            if 1.0 - delta - x > 0
            else 1.0
            for x in grid
        ]
        fig.add_trace(
            go.Scatter(
                x=grid,
                y=bound,
                mode="lines",
                name=f"most any attack can reach at ε = {eps:g}",
                line={"color": COLORS["bound"], "dash": "dash"},
            )
        )
    fig.update_layout(
        title="Membership inference: true vs false positive rate",
        xaxis={"title": "false positive rate (non-members flagged)", "range": [0, 1]},
        yaxis={"title": "true positive rate (members flagged)", "range": [0, 1.02]},
    )
    return fig
