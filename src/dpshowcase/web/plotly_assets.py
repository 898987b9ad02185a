"""Plotly for the app's pages, served by the app itself under its strict CSP.

The JavaScript is the copy inside the installed ``plotly`` Python package (no CDN, no
network). Under ``default-src 'self'`` plotly.js may neither add the ``<style>``
elements it would create when it loads, nor fetch the world's outlines from its CDN,
so the app serves each of them as a file:

- ``plotly.css``: the style rules plotly.js would inject, read from its own source. A
  page links it with ``id="plotly.js-style-global" class="no-inline-styles"``, which
  tells plotly.js not to inject them.
- nothing for the map traces' library (the app draws no such trace): plotly.js injects
  its stylesheet unless an element with the sheet's id is in the page, so a page holds
  an empty element with that id (:func:`page_assets` gives it).
- ``topojson/world_110m.json``: the world map's outlines (those of the report), fetched
  by plotly.js from :data:`PLOTLY_CONFIG`'s ``topojsonURL``.

The script's and stylesheet's URLs carry plotly's version, so they are cached for a year.
"""

from __future__ import annotations

import functools
import logging
import re
from importlib import resources

import plotly
import plotly.offline
from fastapi import APIRouter
from fastapi.responses import Response

from dpshowcase.evaluate import report
from dpshowcase.evaluate.report import CONFIG as REPORT_CONFIG

__all__ = ["PLOTLY_CONFIG", "page_assets", "plotly_css", "plotly_js", "router"]

log = logging.getLogger("dpshowcase.web")
router = APIRouter()

VENDOR = "/static/vendor"
TOPOJSON_URL = f"{VENDOR}/topojson/"
PLOTLY_CONFIG = {
    **REPORT_CONFIG,
    "topojsonURL": TOPOJSON_URL,
    "modeBarButtonsToRemove": ["toImage"],  # it draws through a data: image, forbidden here
}
"""Plotly's config on the app's pages: the report's, with the outlines served here."""
_CACHE = {"cache-control": "public, max-age=31536000, immutable"}

# plotly.js keeps its style rules as one object literal, {"X .modebar":"position:…", …},
# X and Y standing for its plot and notifier selectors; no value holds a quote of its kind.
_RULES = re.compile(r"\{\"X,X div\":.*?\}(?=;for\()", re.S)
_RULE = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|(\w+))\s*:\s*(?:"([^"]*)"|'([^']*)')\s*,?""")
_MAPLIBRE = re.compile(
    r"if\(!document\.getElementById\(\"([0-9a-f]{64})\"\)\)\{var (\w+)=document\.createElement"
    r"\(\"style\"\);\2\.id=\"\1\""
)
_ESSENTIAL_CSS = ".js-plotly-plot .plotly .main-svg{position:absolute;top:0;left:0;}"
"""Without this the chart's layers stack instead of overlapping (used if reading fails)."""


@functools.cache
def plotly_js() -> str:
    """plotly.js (minified, several MB) from the installed plotly package."""
    return str(plotly.offline.get_plotlyjs())


@functools.cache
def plotly_css() -> str:
    """The style rules plotly.js would add with a ``<style>`` element, as a stylesheet."""
    found = _RULES.search(plotly_js())
    if found is None:
        log.warning("plotly.js's style rules were not found; charts may look plain")
        return _ESSENTIAL_CSS + "\n"
    text, pos, rules = found.group(0)[1:-1], 0, []
    while pos < len(text):
        rule = _RULE.match(text, pos)
        if rule is None or rule.end() == pos:
            log.warning("plotly.js's style rules could not be read; charts may look plain")
            return _ESSENTIAL_CSS + "\n"
        selector = rule.group(1) or rule.group(2) or rule.group(3)
        body = rule.group(4) if rule.group(4) is not None else rule.group(5)
        selector = selector.replace("X", ".js-plotly-plot .plotly").replace("Y", ".plotly-notifier")
        rules.append(f"{selector}{{{body}}}")
        pos = rule.end()
    return "\n".join(rules) + "\n"


@functools.cache
def _maplibre_id() -> str | None:
    found = _MAPLIBRE.search(plotly_js())
    return found.group(1) if found else None


@functools.cache
def _world_topojson() -> bytes:
    return resources.files(report).joinpath("world_110m.json").read_bytes()


def page_assets() -> dict[str, str | None]:
    """What a page drawing Plotly charts holds: URLs, and the id of maplibre's sheet."""
    version = plotly.__version__
    return {
        "js": f"{VENDOR}/plotly.min.js?v={version}",
        "css": f"{VENDOR}/plotly.css?v={version}",
        "maplibre_id": _maplibre_id(),
    }


@router.get(f"{VENDOR}/plotly.min.js")
def serve_plotly_js() -> Response:
    """plotly.js from the installed plotly package."""
    return Response(plotly_js(), media_type="text/javascript", headers=_CACHE)


@router.get(f"{VENDOR}/plotly.css")
def serve_plotly_css() -> Response:
    """plotly.js's own style rules."""
    return Response(plotly_css(), media_type="text/css", headers=_CACHE)


@router.get(f"{VENDOR}/topojson/world_110m.json")
def serve_world() -> Response:
    """The world's country outlines at 1:110m (Natural Earth; see the report's NOTICE)."""
    return Response(
        _world_topojson(),
        media_type="application/json",
        headers={"cache-control": "max-age=86400"},  # its URL carries no version
    )
