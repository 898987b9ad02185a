"""Every endpoint of the web API, with good and bad requests."""

from __future__ import annotations

import io
import json
import zipfile

import polars as pl
import pytest

from dpshowcase.errors import ParameterError
from dpshowcase.release.config import ReleaseConfig
from dpshowcase.release.explore import ReleaseExplorer

REPORT = ("report.html", "metrics.json")

# -- pages -----------------------------------------------------------------------------


def test_pages_render(released):
    client, dataset, run = released
    for url in (
        "/",
        f"/datasets/{dataset['id']}",
        f"/datasets/{dataset['id']}/protect",
        f"/datasets/{dataset['id']}/evaluate",
        f"/runs/{run['id']}/navigate",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith("text/html")
        assert 'name="csrf-token"' in response.text
    assert client.get("/datasets/nope").status_code == 404
    assert client.get("/runs/nope/navigate").status_code == 404


def test_static_files_and_world_map_are_served_locally(client):
    for name in ("app.css", "common.js", "data.js", "navigate.js"):
        assert client.get(f"/static/{name}").status_code == 200
    svg = client.get("/static/worldmap.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert 'class="fr country' in svg.text
    assert "style=" not in svg.text  # inline styles would break under the CSP
    assert "<script" not in svg.text.lower()


def test_no_page_loads_anything_from_elsewhere(released):
    client, dataset, run = released
    for url in ("/", f"/datasets/{dataset['id']}", f"/runs/{run['id']}/navigate"):
        html = client.get(url).text
        assert "http://" not in html.replace("http://www.w3.org", "")
        assert "https://" not in html


# -- datasets --------------------------------------------------------------------------


def test_upload_infers_a_schema(client, demo_bytes):
    response = client.send_upload(demo_bytes, name="cases.csv")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "cases.csv"
    assert body["rows"] == 600
    assert len(body["columns"]) == 35
    assert {c["name"] for c in body["schema"]["columns"]} <= set(body["columns"])
    assert {r["name"] for r in body["reports"]} == set(body["columns"])
    listed = client.get("/api/datasets").json()
    assert [d["id"] for d in listed] == [body["id"]]
    assert client.get(f"/api/datasets/{body['id']}").json()["rows"] == 600
    assert client.get("/api/datasets/unknown").status_code == 404


@pytest.mark.parametrize("kind", ["tsv", "parquet"])
def test_upload_tsv_and_parquet(client, demo_bytes, kind):
    frame = pl.read_csv(io.BytesIO(demo_bytes), infer_schema=False)
    buffer = io.BytesIO()
    if kind == "tsv":
        frame.write_csv(buffer, separator="\t")
    else:
        frame.write_parquet(buffer)
    response = client.send_upload(buffer.getvalue(), name=f"cases.{kind}")
    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 600


def test_preview_and_values(released):
    client, dataset, _ = released
    preview = client.get(f"/api/datasets/{dataset['id']}/preview", params={"rows": 5}).json()
    assert preview["columns"] == dataset["columns"]
    assert len(preview["rows"]) == 5
    values = client.get(f"/api/datasets/{dataset['id']}/values", params={"column": "gender"})
    body = values.json()
    assert {v["value"] for v in body["values"]} <= {"Female", "Male"}
    assert sum(v["count"] for v in body["values"]) + body["empty"] == 600
    missing = client.get(f"/api/datasets/{dataset['id']}/values", params={"column": "nope"})
    assert missing.status_code == 404
    assert client.get(f"/api/datasets/{dataset['id']}/values").status_code == 422


def test_schema_edit_is_checked_against_the_data(client, demo_bytes):
    dataset = client.send_upload(demo_bytes).json()
    url = f"/api/datasets/{dataset['id']}/schema"
    schema = {
        "null_values": [""],
        "columns": [
            {"name": "gender"},
            {"name": "ageBroad"},
            {"name": "typeOfLabourAgriculture", "sensitive_zero": True},
            {"name": "meansThreats"},
        ],
    }
    ok = client.api("PUT", url, json=schema)
    assert ok.status_code == 200, ok.text
    assert ok.json()["attributes"]["gender"] == 2
    assert client.get(f"/api/datasets/{dataset['id']}").json()["schema"]["columns"][0] == {
        "name": "gender",
        "kind": "categorical",
    }
    bad_kind = client.api("PUT", url, json={"columns": [{"name": "gender", "kind": "text"}]})
    assert bad_kind.status_code == 400
    assert "unknown kind" in bad_kind.json()["detail"]
    no_column = client.api("PUT", url, json={"columns": [{"name": "shoeSize"}]})
    assert no_column.status_code == 400
    assert "shoeSize" in no_column.json()["detail"]
    numeric = client.api(
        "PUT", url, json={"columns": [{"name": "gender", "kind": "numeric", "bins": [0, 1]}]}
    )
    assert numeric.status_code == 400
    assert "numeric" in numeric.json()["detail"]
    not_json = client.api("PUT", url, content=b"{nope", headers={"content-type": "text/plain"})
    assert not_json.status_code == 400


def test_risk_panel(released):
    client, dataset, _ = released
    url = f"/api/datasets/{dataset['id']}/risk"
    body = client.api("POST", url, json={"resolution": 10, "reporting_length": 2}).json()
    assert 0 < body["share"] <= 1
    assert body["linkable"] > 0
    assert body["share"] == pytest.approx(body["linkable"] / body["records"], abs=1e-4)
    assert body["columns"]
    assert body["attributes"]
    fewer = client.api(
        "POST",
        url,
        json={
            "resolution": 10,
            "reporting_length": 2,
            "schema": {"columns": [{"name": "gender"}, {"name": "majorityStatus"}]},
        },
    ).json()
    assert fewer["linkable"] < body["linkable"]
    assert client.api("POST", url, json={"resolution": 0}).status_code == 400
    assert client.api("POST", url, json={"reporting_length": 9}).status_code == 400
    assert client.api("POST", url, json={"resolution": "ten"}).status_code == 400


# -- runs ------------------------------------------------------------------------------


def test_finished_run(released):
    client, dataset, run = released
    assert run["release"]["synthetic_rows"] > 0
    assert run["release"]["private"] is False  # seeded
    assert run["params"]["dp"]["epsilon"] == 4
    assert run["seconds"] > 0
    folder = client.app.app.state.ctx.store.run_dir(run["id"])
    assert not (folder / "spec.json").exists()  # it named the upload: gone after the run
    listed = client.get("/api/runs", params={"dataset_id": dataset["id"]}).json()
    assert [r["id"] for r in listed] == [run["id"]]
    assert client.get("/api/runs/unknown").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"epsilon": -1}, "epsilon"),
        ({}, "epsilon"),
        ({"epsilon": 4, "reporting_length": 6}, "at most 5"),
        ({"mode": "k-anonymity"}, "k must be"),
        ({"mode": "k-anonymity", "k": 5, "k_synthesizer": "magic"}, "Unknown mode"),
        ({"mode": "l-diversity", "epsilon": 4}, "mode"),
        ({"epsilon": 4, "advanced": {"bogus": 1}}, "Unknown advanced DP parameter(s) ['bogus']"),
        ({"epsilon": 4, "advanced": {"record_count_public": 10}}, "Advanced settings may only"),
        ({"epsilon": 4, "seed": -2}, "seed"),
        ({"epsilon": 4, "delta": 2}, "delta"),
        ({"epsilon": 4, "fabrication_weight": 0}, "fabrication weight must be"),
        ({"epsilon": 4, "row_share": 3}, "rows per protected record (--row-share)"),
    ],
)
def test_bad_run_parameters(released, body, message):
    client, dataset, _ = released
    response = client.api("POST", f"/api/datasets/{dataset['id']}/runs", json=body)
    assert response.status_code == 400
    assert message in response.json()["detail"]


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("epsilon", -1),
        ("delta", 2),
        ("seed", -2),
        ("fabrication_weight", 0),
        ("row_share", 0.5),
        ("reporting_length", 0),
        ("lineage", "not / a name"),
        ("percentile_percentage", 0),
    ],
)
def test_the_web_app_refuses_a_value_with_the_command_lines_sentence(released, flag, value):
    """One config model checks every adapter: a bad value in a run request is refused
    with the sentence the command line (and a config file, after its name) gives."""
    client, dataset, _ = released
    with pytest.raises(ParameterError) as from_cli:
        ReleaseConfig(epsilon=4, delta=1e-6).override(**{flag: value}).dp_parameters()
    body: dict = {"epsilon": 4, "delta": 1e-6, flag: value}
    if flag == "percentile_percentage":
        body = {"epsilon": 4, "delta": 1e-6, "advanced": {flag: value}}
    response = client.api("POST", f"/api/datasets/{dataset['id']}/runs", json=body)
    assert response.status_code == 400
    assert response.json()["detail"] == str(from_cli.value)


def test_evaluation(released):
    client, _, run = released
    evaluation = client.get(f"/api/runs/{run['id']}/evaluation").json()
    assert evaluation["reporting_length"] == 3
    assert [x["length"] for x in evaluation["lengths"]] == [1, 2, 3]
    assert evaluation["lengths"][0]["fabricated"] == 0
    assert evaluation["synthetic_records"] == run["release"]["synthetic_rows"]


def test_navigate_matches_the_bundle(released):
    client, _, run = released
    selection = [["gender", "Female"], ["majorityStatus", "Adult"]]
    body = client.api("POST", f"/api/runs/{run['id']}/navigate", json={"selection": selection})
    assert body.status_code == 200, body.text
    view = body.json()
    explorer = ReleaseExplorer(client.app.app.state.ctx.store.bundle_dir(run["id"]))
    synthetic = explorer.synthetic
    expected = synthetic.filter(
        (pl.col("gender") == "Female") & (pl.col("majorityStatus") == "Adult")
    ).height
    assert view["synthetic"] == expected
    aggregates = explorer.aggregates
    label = "gender:Female;majorityStatus:Adult"
    found = aggregates.filter(pl.col("combination") == label)
    assert view["protected"] == (found.get_column("count")[0] if found.height else 0)
    columns = {c["name"]: c["values"] for c in view["columns"]}
    assert "gender" not in columns  # one value per record: already chosen
    assert all(v["protected"] is not None for v in columns["ageBroad"])  # 3 ≤ R
    some = columns["ageBroad"][0]["value"]
    longer = client.api(
        "POST",
        f"/api/runs/{run['id']}/navigate",
        json={"selection": [*selection, ["ageBroad", some]]},
    ).json()
    assert longer["protected"] is not None
    assert all(v["protected"] is None for c in longer["columns"] for v in c["values"])  # 4 > R
    assert {m["column"] for m in view["maps"]} == {"citizenship", "CountryOfExploitation"}


def test_navigate_refuses_bad_selections(released):
    client, _, run = released
    url = f"/api/runs/{run['id']}/navigate"
    two = client.api("POST", url, json={"selection": [["gender", "Female"], ["gender", "Male"]]})
    assert two.status_code == 400
    assert "one value" in two.json()["detail"]
    unknown = client.api("POST", url, json={"selection": [["shoeSize", "42"]]})
    assert unknown.status_code == 400
    assert client.api("POST", url, json={"selection": "gender"}).status_code == 400
    assert client.api("POST", url, json={"selection": [["gender"]]}).status_code == 400
    assert client.api("POST", url, json={"selection": [["a", "b"]] * 21}).status_code == 400
    empty = client.api("POST", url, json={"selection": []}).json()
    assert empty["synthetic"] == empty["record_count"] or empty["synthetic"] > 0


def test_download_zip_holds_the_release_only(released):
    client, _, run = released
    response = client.get(f"/api/runs/{run['id']}/bundle.zip")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("release/manifest.json"))
    assert names == {f"release/{n}" for n in (*run["release"]["files"], *REPORT)}
    assert manifest["not_for_release"] is True
    assert not any("upload" in n or n.endswith("spec.json") for n in names)


def test_download_single_files(released):
    client, _, run = released
    csv = client.get(f"/api/runs/{run['id']}/files/aggregates.csv")
    assert csv.status_code == 200
    assert csv.text.startswith("combination,length,count")
    parameters = client.get(f"/api/runs/{run['id']}/files/parameters.json").json()
    assert parameters["mode"] == "dp"
    # no weight in the form: the run says so, and the bundle states the one the data gave
    assert run["params"]["fabrication_weight"] is None
    assert parameters["synthesis"]["fabrication_weight_from"].startswith("the data: ")
    assert parameters["synthesis"]["row_share"] == run["params"]["row_share"] == 1.25
    assert client.get(f"/api/runs/{run['id']}/files/spec.json").status_code == 404
    assert client.get(f"/api/runs/{run['id']}/files/..%2Fspec.json").status_code == 404
    assert client.get("/api/runs/unknown/files/synthetic.csv").status_code == 404


def test_release_endpoints_wait_for_a_finished_run(client, demo_bytes):
    dataset = client.send_upload(demo_bytes).json()
    run = client.api(
        "POST", f"/api/datasets/{dataset['id']}/runs", json={"epsilon": 1, "seed": 1}
    ).json()
    assert client.get(f"/api/runs/{run['id']}/bundle.zip").status_code in (409, 200)
    client.api("POST", f"/api/runs/{run['id']}/cancel")
    assert client.wait(run["id"])["status"] == "cancelled"
    assert client.get(f"/api/runs/{run['id']}/bundle.zip").status_code == 409
    assert client.get(f"/api/runs/{run['id']}/evaluation").status_code == 409


def test_k_anonymous_run(released):
    client, dataset, _ = released
    body = {"mode": "k-anonymity", "k": 5, "k_synthesizer": "row-seeded", "reporting_length": 2}
    created = client.api("POST", f"/api/datasets/{dataset['id']}/runs", json=body)
    assert created.status_code == 202, created.text
    assert created.json()["params"]["label"] == "k = 5 (row-seeded), R = 2"
    run = client.wait(created.json()["id"])
    assert run["status"] == "done", run["message"]
    parameters = client.get(f"/api/runs/{run['id']}/files/parameters.json").json()
    assert parameters["mode"] == "k-anonymity"
    aggregates = pl.read_csv(
        io.BytesIO(client.get(f"/api/runs/{run['id']}/files/aggregates.csv").content)
    )
    assert (aggregates.get_column("count") % 5 == 0).all()
    view = client.api(
        "POST", f"/api/runs/{run['id']}/navigate", json={"selection": [["gender", "Female"]]}
    ).json()
    assert view["reporting_length"] == 2
    assert client.get(f"/runs/{run['id']}/navigate").status_code == 200
