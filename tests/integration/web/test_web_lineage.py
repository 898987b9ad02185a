"""The privacy ledger in the web app: lineage runs, the ledger page, withdrawal uploads."""

from __future__ import annotations

from pathlib import Path


def test_lineage_run_ledger_page_and_withdrawals(client, demo_bytes, tmp_path):
    dataset = client.send_upload(demo_bytes).json()
    runs = f"/api/datasets/{dataset['id']}/runs"
    body = {"epsilon": 2, "reporting_length": 2, "seed": 1, "lineage": "web-cases"}

    refused = client.api("POST", runs, json=body)  # no explicit δ
    assert refused.status_code == 400
    assert "explicit δ" in refused.json()["detail"]

    run = client.api("POST", runs, json={**body, "delta": 1e-6}).json()
    done = client.wait(run["id"])
    assert done["status"] == "done", done
    report = client.get("/api/lineages/web-cases").json()
    assert [(r["kind"], r["status"], r["bundle_state"]) for r in report["releases"]] == [
        ("dp-seeded", "committed", "intact")
    ]
    assert client.get("/api/lineages").json() == ["web-cases"]

    page = client.get("/lineages/web-cases")
    assert page.status_code == 200
    assert 'id="withdraw-form"' in page.text
    assert "outside the DP accounting" in page.text
    assert "web-cases" in client.get("/lineages").text

    ids = "SURVIVOR-WEB-1\nSURVIVOR-WEB-2\n"
    answer = client.api(
        "POST", "/api/lineages/web-cases/withdrawals", json={"ids": ids, "column": None}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["new"] == 2
    assert "SURVIVOR" not in answer.text
    state = Path(client.app.app.state.ctx.settings.data_dir)
    for path in state.rglob("*"):
        if path.is_file():
            assert b"SURVIVOR-WEB" not in path.read_bytes(), path

    # the demo schema names no subject id: a later release cannot honour them, so it fails
    again = client.wait(client.api("POST", runs, json={**body, "delta": 1e-6}).json()["id"])
    assert again["status"] == "failed"
    assert "subject ids" in again["message"]
    assert len(client.get("/api/lineages/web-cases").json()["releases"]) == 1


def test_withdrawal_upload_is_checked(client):
    answer = client.api(
        "POST", "/api/lineages/web-cases/withdrawals", json={"ids": "a,b\n1,2\n", "column": "c"}
    )
    assert answer.status_code == 400
    assert "no column" in answer.json()["detail"]
    assert client.get("/api/lineages/nothing-here").status_code == 404
