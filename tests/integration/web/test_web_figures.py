"""The Evaluate step's charts: report figures as Plotly JSON, and Plotly served locally."""

from __future__ import annotations

import json

import plotly

from dpshowcase.web.security import CONTENT_SECURITY_POLICY


def _metrics(client, run_id):
    return json.loads(client.get(f"/api/runs/{run_id}/files/metrics.json").content)


def test_run_figures_are_the_reports(released):
    client, _, run = released
    response = client.get(f"/api/runs/{run['id']}/figures")
    assert response.status_code == 200
    body = response.json()
    assert body["run_id"] == run["id"]
    assert body["config"]["topojsonURL"] == "/static/vendor/topojson/"
    figures = {f["key"]: f for f in body["figures"]}
    metrics = _metrics(client, run["id"])
    for key in ("preservation_by_length", "agreement", "distributions"):
        assert figures[key]["figure"]["data"], key
    # the figures show this run's metrics
    rows = metrics["combinations"]["protected_vs_synthetic"]["by_length"]
    (trace,) = figures["preservation_by_length"]["figure"]["data"]
    assert trace["y"] == [100 * r["preservation"] for r in rows if r["reference_combinations"]]
    agreement = metrics["comparability"]["agreement_by_length"]
    (bars,) = figures["agreement"]["figure"]["data"]
    assert bars["y"][0] == 100 * agreement["1"]["share"]
    for column in metrics["map_columns"]:
        (countries,) = figures[f"world_map:{column}"]["figure"]["data"]
        assert countries["locations"] == metrics["distributions"][column]["values"]


def test_run_figures_of_unknown_or_unfinished_runs(client, demo_bytes):
    assert client.get("/api/runs/nope/figures").status_code == 404
    dataset = client.send_upload(demo_bytes).json()
    run = client.api(
        "POST", f"/api/datasets/{dataset['id']}/runs", json={"epsilon": 1, "reporting_length": 2}
    ).json()
    client.api("POST", f"/api/runs/{run['id']}/cancel")
    assert client.wait(run["id"])["status"] == "cancelled"
    assert client.get(f"/api/runs/{run['id']}/figures").status_code == 409


def test_run_figures_without_an_evaluation(make_client, demo_bytes):
    client = make_client()
    dataset = client.send_upload(demo_bytes).json()
    run = client.api(
        "POST",
        f"/api/datasets/{dataset['id']}/runs",
        json={"epsilon": 4, "reporting_length": 2, "seed": 1},
    ).json()
    assert client.wait(run["id"])["status"] == "done"
    store = client.app.app.state.ctx.store
    (store.bundle_dir(run["id"]) / "metrics.json").unlink()
    response = client.get(f"/api/runs/{run['id']}/figures")
    assert response.status_code == 404
    assert "no evaluation report" in response.json()["detail"]
    # the comparison draws nothing of it
    body = client.get(f"/api/datasets/{dataset['id']}/figures").json()
    assert body["run_ids"] == [run["id"]]
    assert [f["figure"]["data"] for f in body["figures"]] == [[], []]


def test_dataset_figures_compare_the_runs(released):
    client, dataset, run = released
    body = client.get(f"/api/datasets/{dataset['id']}/figures").json()
    assert body["run_ids"] == [run["id"]]
    preservation, agreement = body["figures"]
    (trace,) = preservation["figure"]["data"]
    assert trace["name"] == run["params"]["label"]
    rows = _metrics(client, run["id"])["combinations"]["protected_vs_synthetic"]["by_length"]
    assert trace["y"] == [100 * r["preservation"] for r in rows if r["reference_combinations"]]
    assert agreement["figure"]["data"][0]["name"] == run["params"]["label"]
    assert client.get("/api/datasets/nope/figures").status_code == 404


def test_plotly_is_served_by_the_app(client):
    script = client.get(f"/static/vendor/plotly.min.js?v={plotly.__version__}")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "max-age=31536000" in script.headers["cache-control"]
    assert script.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "plotly.js v" in script.text[:200]
    css = client.get("/static/vendor/plotly.css")
    assert css.headers["content-type"].startswith("text/css")
    # the rules plotly.js would inject, read from its own source
    assert ".js-plotly-plot .plotly .main-svg{position:absolute;" in css.text
    assert ".js-plotly-plot .plotly .modebar{" in css.text
    assert "X " not in css.text
    world = client.get("/static/vendor/topojson/world_110m.json")
    assert world.status_code == 200
    assert "countries" in world.json()["objects"]


def test_evaluate_page_links_plotly_locally(released):
    client, dataset, _ = released
    html = client.get(f"/datasets/{dataset['id']}/evaluate").text
    assert f'src="/static/vendor/plotly.min.js?v={plotly.__version__}"' in html
    assert 'id="plotly.js-style-global" class="no-inline-styles"' in html
    assert "<script>" not in html  # external scripts only
    assert "https://" not in html
    assert "http://" not in html
