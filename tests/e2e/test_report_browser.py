"""The evaluation report renders in real headless Chromium without any network.

A release is made with the command line from 3,000 fictitious records; its public
report (in the bundle) and the full report of ``dpshowcase evaluate --sensitive`` are
opened from file:// URLs. Every request must be the page itself (file://) — Plotly and
the world map are inline — no request may fail, and the console must stay free of
errors. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def _cli(*args: str) -> None:
    cli = Path(sys.executable).with_name("dpshowcase")
    done = subprocess.run([str(cli), *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def reports(tmp_path_factory, demo_csv) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reports")
    bundle = root / "bundle"
    _cli("release", str(demo_csv), "--epsilon", "4", "--seed", "1", "--output", str(bundle))
    full = root / "full"
    _cli("evaluate", "--release", str(bundle), "--sensitive", str(demo_csv), "--output", str(full))
    return {"public": bundle / "report.html", "full": full / "report.html"}


@pytest.mark.parametrize("which", ["public", "full"])
def test_report_renders_offline_without_errors(browser, artifacts, reports, which):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    failed: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(reports[which].as_uri(), wait_until="load")
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        page.wait_for_timeout(1_500)  # let every chart and the maps draw
        plots = page.locator(".js-plotly-plot").count()
        maps = page.locator(".js-plotly-plot .geo").count()
        countries = page.locator(".js-plotly-plot .choroplethlocation").count()
        text = page.inner_text("main")
        page.screenshot(path=str(artifacts / f"report-{which}.png"), full_page=True)
    finally:
        page.close()
    assert failed == []
    assert problems == []
    outside = [u for u in requests if not u.startswith(("file://", "data:", "blob:"))]
    outside = [u for u in outside if not u.startswith(("http://127.0.0.1", "about:"))]
    assert outside == []
    assert plots >= 6
    assert maps >= 1
    assert countries > 10  # the world map drew countries from inline data
    assert "Guarantee." in text
    assert "Data comparability" in text
    if which == "full":
        assert "Confidential." in text
        assert "membership-inference attack" in text
    else:
        assert "may be published with it" in text
