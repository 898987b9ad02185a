"""End to end, as a data officer would: upload, check columns, run a DP release,
compare the runs' reports and charts, navigate with two attributes selected, download
the bundle. No request may leave the machine and the page's CSP must never be hit."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

SEED = 7


def _number(text: str) -> int | None:
    digits = text.replace(",", "").strip()
    return int(digits) if re.fullmatch(r"-?\d+", digits) else None


@pytest.fixture
def page(browser: Any, server: str, server_token: str) -> Any:
    context = browser.new_context(
        base_url=server, viewport={"width": 1400, "height": 1000}, accept_downloads=True
    )
    context.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}`));"
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    page.problems = problems  # type: ignore[attr-defined]
    page.requests = requests  # type: ignore[attr-defined]
    # as the owner does: open the printed address once; the token becomes a cookie
    page.goto(f"/?token={server_token}")
    assert page.url == server + "/"
    yield page
    context.close()


def test_the_app_is_private(browser: Any, server: str) -> None:
    context = browser.new_context(base_url=server)
    page = context.new_page()
    response = page.goto("/")
    assert response is not None
    assert response.status == 403
    assert "private to the person who started it" in page.inner_text("body")
    assert page.request.get("/api/datasets").status == 403
    assert page.request.get("/static/app.css").status == 403
    wrong = page.goto("/?token=wrong")
    assert wrong is not None
    assert wrong.status == 403
    context.close()


def test_release_journey(page: Any, demo_csv: Path, artifacts: Path, server: str) -> None:
    # Start page and upload
    page.goto("/")
    page.screenshot(path=artifacts / "01-home.png", full_page=True)
    page.set_input_files("#file", str(demo_csv))
    page.click("#upload-button")
    page.wait_for_url(re.compile(r"/datasets/[0-9a-f]{32}$"))
    dataset_id = page.url.rsplit("/", 1)[-1]

    # Data: the risk panel fills in, the schema table lists every column
    page.wait_for_function("() => document.getElementById('risk-share').textContent.includes('%')")
    assert page.locator("#schema-table tbody tr").count() == 35
    first_share = page.inner_text("#risk-share")
    page.click("#schema-table tr[data-column='gender'] .link")  # value counts
    page.wait_for_selector("#values .bar-row")
    assert "Female" in page.inner_text("#values")
    # choosing fewer columns updates the risk panel
    for column in ("yearOfRegistration", "citizenship", "CountryOfExploitation"):
        page.uncheck(f"#schema-table tr[data-column='{column}'] input.use")
    page.wait_for_function(
        "s => document.getElementById('risk-share').textContent !== s "
        "&& !document.getElementById('risk').classList.contains('stale')",
        arg=first_share,
    )
    page.screenshot(path=artifacts / "02-data.png", full_page=True)
    # keep the countries for the map: tick them again and save
    for column in ("citizenship", "CountryOfExploitation"):
        page.check(f"#schema-table tr[data-column='{column}'] input.use")
    page.click("#save-schema")
    page.wait_for_function(
        "() => document.getElementById('schema-message').textContent.startsWith('Saved')"
    )

    # Protect & synthesize: a DP run with a fixed seed, followed to the end
    page.click("#next")
    page.wait_for_url(f"**/datasets/{dataset_id}/protect")
    page.fill("input[name=epsilon]", "4")
    page.select_option("select[name=reporting_length]", "3")
    page.fill("input[name=seed]", str(SEED))
    page.click("#run-button")
    page.wait_for_selector(".run-card")
    page.screenshot(path=artifacts / "03-protect-running.png", full_page=True)
    page.wait_for_selector(".run-card.done", timeout=90_000)
    run_id = page.get_attribute(".run-card.done", "data-run")
    # a k-anonymous run beside it
    page.check("input[name=mode][value='k-anonymity']")
    assert page.is_hidden("input[name=epsilon]")
    page.fill("input[name=k]", "10")
    page.click("#run-button")
    page.wait_for_function("() => document.querySelectorAll('.run-card.done').length === 2")
    assert "k = 10" in page.inner_text("#runs")
    page.screenshot(path=artifacts / "04-protect-done.png", full_page=True)

    # Evaluate: the table, then the reports' Plotly charts, drawn by the app's own plotly.js
    page.goto(f"/datasets/{dataset_id}/evaluate")
    page.wait_for_selector("#compare-table")
    assert "within 10%" in page.inner_text("#compare-table")
    assert page.locator("#compare-table thead th").count() == 3  # two runs side by side
    page.wait_for_selector("body[data-charts=drawn]", timeout=90_000)
    _check_charts(page, run_id)
    page.screenshot(path=artifacts / "05-evaluate.png", full_page=True)
    # the narrowest cells (two runs side by side in 420 pixels each) still hold the titles
    page.set_viewport_size({"width": 950, "height": 1000})
    page.wait_for_function(
        "() => [...document.querySelectorAll('#report-charts .js-plotly-plot')]"
        ".every((node) => node._fullLayout.width < 420)"
    )
    assert _cut_titles(page) == []
    assert _overlapping_legends(page) == []
    page.screenshot(path=artifacts / "05-evaluate-narrow.png", full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})

    # Navigate: select two attributes
    page.goto(f"/runs/{run_id}/navigate")
    page.wait_for_selector(".pair-row[data-column='gender'][data-value='Female']")
    ready = page.get_attribute("body", "data-ready")
    page.click(".pair-row[data-column='gender'][data-value='Female']")
    page.wait_for_function("r => document.body.dataset.ready !== r", arg=ready)
    ready = page.get_attribute("body", "data-ready")
    page.click(".pair-row[data-column='majorityStatus'][data-value='Adult']")
    page.wait_for_function("r => document.body.dataset.ready !== r", arg=ready)
    page.wait_for_selector(".map-card svg g.has-data")
    page.screenshot(path=artifacts / "06-navigate.png", full_page=True)

    token = page.get_attribute("meta[name=csrf-token]", "content")
    api = page.request.post(
        f"/api/runs/{run_id}/navigate",
        data={"selection": [["gender", "Female"], ["majorityStatus", "Adult"]]},
        headers={"X-CSRF-Token": token},
    ).json()
    assert _number(page.inner_text("#fig-synthetic")) == api["synthetic"]
    assert _number(page.inner_text("#fig-protected")) == api["protected"]
    chips = page.locator("#chips .chip")
    assert chips.count() == 2
    checked = 0
    for column in api["columns"]:
        for value in column["values"][:3]:
            row = page.locator(
                f".pair-row[data-column='{column['name']}'][data-value='{value['value']}']"
            )
            if row.count() == 0:  # long columns show their top values only
                continue
            assert _number(row.locator(".syn-count").inner_text()) == value["synthetic"]
            shown = row.locator(".prot-count").inner_text()
            assert (_number(shown) if value["protected"] is not None else shown) == (
                value["protected"] if value["protected"] is not None else "beyond R"
            )
            checked += 1
    assert checked > 20

    # Download the bundle
    with page.expect_download() as info:
        page.click("#download-zip")
    target = artifacts / "release.zip"
    info.value.save_as(target)
    with zipfile.ZipFile(target) as archive:
        names = sorted(archive.namelist())
    assert "release/synthetic.csv" in names
    assert "release/manifest.json" in names
    assert all(n.startswith("release/") for n in names)
    assert not any(n.endswith(demo_csv.name) for n in names)
    page.locator("#download").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "07-download.png")

    assert page.problems == [], page.problems  # type: ignore[attr-defined]
    assert page.evaluate("window.cspViolations") == []
    outside = [u for u in page.requests if not u.startswith(server + "/")]  # type: ignore[attr-defined]
    assert outside == []


def _check_charts(page: Any, run_id: str) -> None:
    """Every report chart and both comparisons are drawn, within the CSP, from local files."""
    assert page.inner_text("#charts-message") == ""
    rows = page.locator("#report-charts .chart-row")
    assert rows.count() >= 8  # combinations, comparability, columns, maps, coverage
    plots = page.locator("#report-charts .js-plotly-plot")
    assert plots.count() >= rows.count()
    assert page.locator(".js-plotly-plot:not(:has(svg.main-svg .trace))").count() == 0
    comparison = page.locator("#comparison-charts .js-plotly-plot")
    assert comparison.count() == 2
    assert comparison.first.locator(".scatterlayer .trace").count() == 2  # one line per run
    maps = page.locator(".chart-row[data-chart^='world_map:'] .js-plotly-plot")
    assert maps.count() >= 2
    assert maps.first.locator(".choroplethlocation").count() > 10  # outlines were fetched
    # the chart shows the run's figures as the API sends them
    figures = page.request.get(f"/api/runs/{run_id}/figures").json()["figures"]
    sent = next(f for f in figures if f["key"] == "preservation_by_length")["figure"]["data"]
    column = page.evaluate(
        "id => [...document.querySelectorAll('#compare-table thead th')].findIndex("
        "th => th.querySelector(`a[href='/runs/${id}/navigate']`)) - 1",
        run_id,
    )
    drawn = page.evaluate(
        "i => document.querySelectorAll("
        "\".chart-row[data-chart='preservation_by_length'] .chart-cell\")[i]"
        ".querySelector('.js-plotly-plot').data.map((t) => t.y)",
        column,
    )
    assert drawn == [t["y"] for t in sent]
    assert _cut_titles(page) == []
    assert _overlapping_legends(page) == []
    assert page.evaluate("window.cspViolations") == []
    assert page.problems == [], page.problems


def _cut_titles(page: Any) -> list[str]:
    """Chart titles not whole inside their figure, above its plot area (Plotly does not
    wrap a title: a long one runs past a half-width cell's right edge)."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap((node) => {
              const title = node.querySelector('.gtitle');
              if (!title || !title.textContent) return [];
              const svg = node.querySelector('svg.main-svg').getBoundingClientRect();
              const box = title.getBoundingClientRect();
              const top = node._fullLayout._size.t;  // where the plot area starts
              const [x0, x1] = [box.left - svg.left, box.right - svg.left];
              const [y0, y1] = [box.top - svg.top, box.bottom - svg.top];
              if (x0 >= -1 && x1 <= svg.width + 1 && y0 >= -1 && y1 <= top + 1) return [];
              const at = [x0, x1, svg.width, y0, y1, top].map(Math.round);
              return [`${title.textContent}: x ${at[0]}–${at[1]} of ${at[2]}, `
                + `y ${at[3]}–${at[4]} of ${at[5]}`];
            })"""
        )
    )


def _overlapping_legends(page: Any) -> list[str]:
    """Charts whose legend overlaps the x axis's title or tick labels, or leaves the figure."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap((node) => {
              const legend = node.querySelector('g.legend');
              if (!legend) return [];
              const svg = node.querySelector('svg.main-svg').getBoundingClientRect();
              const box = legend.getBoundingClientRect();
              const hits = (other) => !(other.right <= box.left || other.left >= box.right
                || other.bottom <= box.top || other.top >= box.bottom);
              const axis = [...node.querySelectorAll('.g-xtitle, .xtick')]
                .map((el) => el.getBoundingClientRect()).filter((b) => b.width > 0);
              const inside = box.top >= svg.top - 1 && box.bottom <= svg.bottom + 1;
              if (inside && !axis.some(hits)) return [];
              const title = node.querySelector('.gtitle');
              return [(title && title.textContent) || node.id];
            })"""
        )
    )
