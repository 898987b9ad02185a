"""State across restarts, deletion of sensitive data, cancelling and recovering runs."""

from __future__ import annotations

from dpshowcase.web.store import Run, new_id, now


def _start(client, dataset_id, **params):
    body = {"epsilon": 4, "reporting_length": 2, "seed": 3, **params}
    response = client.api("POST", f"/api/datasets/{dataset_id}/runs", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def test_state_survives_a_restart(make_client, demo_bytes):
    first = make_client()
    dataset = first.send_upload(demo_bytes).json()
    run = _start(first, dataset["id"])
    assert first.wait(run["id"])["status"] == "done"
    first.__exit__(None, None, None)

    second = make_client()
    assert [d["id"] for d in second.get("/api/datasets").json()] == [dataset["id"]]
    again = second.get(f"/api/runs/{run['id']}").json()
    assert again["status"] == "done"
    assert again["release"]["synthetic_rows"] > 0
    assert second.get(f"/api/runs/{run['id']}/bundle.zip").status_code == 200
    # the table is read again from the upload after the restart
    assert second.get(f"/api/datasets/{dataset['id']}/preview").status_code == 200


def test_deleting_data_removes_every_sensitive_artefact(client, demo_bytes):
    ctx = client.app.app.state.ctx
    dataset = client.send_upload(demo_bytes).json()
    run = _start(client, dataset["id"])
    assert client.wait(run["id"])["status"] == "done"
    upload = ctx.settings.uploads / ctx.store.dataset(dataset["id"]).file
    assert upload.is_file()
    assert dataset["id"] in ctx.frames

    response = client.api("DELETE", f"/api/datasets/{dataset['id']}")
    assert response.status_code == 200
    assert not upload.exists()
    assert list(ctx.settings.uploads.iterdir()) == []
    assert dataset["id"] not in ctx.frames
    assert client.get(f"/api/datasets/{dataset['id']}").status_code == 404
    assert client.get(f"/datasets/{dataset['id']}").status_code == 404
    kept = client.get(f"/api/runs/{run['id']}").json()  # the public release stays
    assert kept["dataset_id"] is None
    assert kept["status"] == "done"
    assert client.get(f"/api/runs/{run['id']}/bundle.zip").status_code == 200
    assert client.api("DELETE", f"/api/datasets/{dataset['id']}").status_code == 404


def test_deleting_data_with_its_releases(client, demo_bytes):
    ctx = client.app.app.state.ctx
    dataset = client.send_upload(demo_bytes).json()
    run = _start(client, dataset["id"])
    client.wait(run["id"])
    response = client.api("DELETE", f"/api/datasets/{dataset['id']}", params={"releases": True})
    assert response.json()["releases_deleted"] is True
    assert client.get(f"/api/runs/{run['id']}").status_code == 404
    assert not ctx.store.run_dir(run["id"]).exists()
    assert list(ctx.settings.runs.iterdir()) == []


def test_cancel_a_running_run(client, demo_bytes):
    dataset = client.send_upload(demo_bytes).json()
    run = _start(client, dataset["id"], reporting_length=3)
    cancelled = client.api("POST", f"/api/runs/{run['id']}/cancel")
    assert cancelled.status_code == 200
    final = client.wait(run["id"])
    assert final["status"] == "cancelled"
    assert final["release"] is None
    assert not client.app.app.state.ctx.store.bundle_dir(run["id"]).exists()
    assert client.api("POST", f"/api/runs/{run['id']}/cancel").status_code == 409


def test_runs_queue_and_several_stay_side_by_side(client, demo_bytes):
    dataset = client.send_upload(demo_bytes).json()
    first = _start(client, dataset["id"], epsilon=2)
    second = _start(client, dataset["id"], epsilon=6)
    assert second["status"] == "queued"  # one job at a time
    assert client.wait(first["id"])["status"] == "done"
    assert client.wait(second["id"])["status"] == "done"
    runs = client.get("/api/runs", params={"dataset_id": dataset["id"]}).json()
    assert sorted(r["params"]["dp"]["epsilon"] for r in runs) == [2, 6]


def test_delete_a_run(client, demo_bytes):
    dataset = client.send_upload(demo_bytes).json()
    run = _start(client, dataset["id"])
    client.wait(run["id"])
    assert client.api("DELETE", f"/api/runs/{run['id']}").status_code == 200
    assert client.get(f"/api/runs/{run['id']}").status_code == 404
    assert client.api("DELETE", f"/api/runs/{run['id']}").status_code == 404


def test_failed_run_reports_the_problem(client):
    rows = "\n".join(f"{i % 6},{i % 3}" for i in range(60))
    dataset = client.send_upload(f"a,b\n{rows}\n".encode(), name="tiny.csv").json()
    # a schema the Data step would refuse, stored behind its back: bins not covering a
    schema = {"columns": [{"name": "a", "kind": "numeric", "bins": [0, 1]}, {"name": "b"}]}
    client.app.app.state.ctx.store.set_schema(dataset["id"], schema)
    run = _start(client, dataset["id"], reporting_length=2)
    final = client.wait(run["id"])
    assert final["status"] == "failed"
    assert "'a'" in final["message"]
    assert final["release"] is None


def test_interrupted_runs_are_marked_failed_after_a_restart(make_client):
    first = make_client()
    store = first.app.app.state.ctx.store
    run_id = new_id()
    store.add(
        Run(
            id=run_id,
            dataset_id=None,
            dataset_name="x.csv",
            created=now(),
            status="running",
            stage="Protecting",
            progress=0.4,
            message="",
            params={"mode": "dp", "dp": {"epsilon": 1, "reporting_length": 2}, "seed": None},
        )
    )
    (store.bundle_dir(run_id)).mkdir(parents=True)
    stray = store.settings.uploads / "leftover.part"
    stray.write_bytes(b"half an upload")
    first.__exit__(None, None, None)

    second = make_client()
    run = second.get(f"/api/runs/{run_id}").json()
    assert run["status"] == "failed"
    assert "stopped" in run["message"]
    assert not stray.exists()
    assert not second.app.app.state.ctx.store.bundle_dir(run_id).exists()
