"""The command line and the web app make the same release: byte-identical bundles.

Both adapters build one ReleaseJob and call one run_release, so the same data, schema,
parameters and seed must give the same files, byte for byte. Timestamps come from
SOURCE_DATE_EPOCH when it is set (the reproducible-builds convention), so nothing
needs to be left out of the comparison.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dpshowcase.cli.main import app
from dpshowcase.data.demo import generate_demo_records
from dpshowcase.schema.toml_io import save_schema, schema_from_dict


@pytest.mark.parametrize(
    ("cli_flags", "web_body"),
    [
        (
            ["--epsilon", "4", "--reporting-length", "3", "--seed", "5"],
            {"epsilon": 4, "reporting_length": 3, "seed": 5},
        ),
        (
            ["--k", "5", "--mode", "row-seeded", "--reporting-length", "2", "--seed", "5"],
            {"mode": "k-anonymity", "k": 5, "k_synthesizer": "row-seeded",
             "reporting_length": 2, "seed": 5},
        ),
    ],
    ids=["dp", "k-anonymity"],
)  # fmt: skip
def test_cli_and_web_write_byte_identical_bundles(
    tmp_path, monkeypatch, make_client, cli_flags, web_body
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    buffer = io.BytesIO()
    generate_demo_records(rows=600, seed=3).write_csv(buffer)
    data = tmp_path / "cases.csv"  # the web app names its source by the upload's name
    data.write_bytes(buffer.getvalue())

    client = make_client()
    dataset = client.send_upload(data.read_bytes(), name="cases.csv").json()
    run = client.api("POST", f"/api/datasets/{dataset['id']}/runs", json=web_body).json()
    done = client.wait(run["id"])
    assert done["status"] == "done", done
    web_bundle = client.app.app.state.ctx.store.bundle_dir(run["id"])  # type: ignore[attr-defined]
    schema = tmp_path / "schema.toml"  # the schema the web app inferred, for the CLI
    save_schema(schema_from_dict(dataset["schema"]), schema)

    cli_bundle = tmp_path / "cli-bundle"
    result = CliRunner().invoke(
        app,
        ["release", str(data), "--schema", str(schema), *cli_flags, "-o", str(cli_bundle)],
    )
    assert result.exit_code == 0, result.output
    assert _files(cli_bundle) == _files(web_bundle)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize(
    ("cli_flags", "web_body"),
    [
        (["--epsilon", "4", "--seed", "-2"], {"epsilon": 4, "seed": -2}),
        (["--epsilon", "4", "--fabrication-weight", "0"], {"epsilon": 4, "fabrication_weight": 0}),
        (["--epsilon", "4", "--row-share", "2.6"], {"epsilon": 4, "row_share": 2.6}),
        (["--k", "1"], {"mode": "k-anonymity", "k": 1}),
        (
            ["--k", "5", "--mode", "magic"],
            {"mode": "k-anonymity", "k": 5, "k_synthesizer": "magic"},
        ),
        (["--epsilon", "4", "--reporting-length", "0"], {"epsilon": 4, "reporting_length": 0}),
    ],
    ids=["seed", "fabrication-weight", "row-share", "k", "k-mode", "reporting-length"],
)
def test_cli_and_web_refuse_bad_settings_with_the_same_sentence(
    tmp_path, make_client, demo_bytes, cli_flags, web_body
):
    """One model (ReleaseJob) checks the settings of both adapters."""
    client = make_client()
    dataset = client.send_upload(demo_bytes, name="cases.csv").json()
    response = client.api("POST", f"/api/datasets/{dataset['id']}/runs", json=web_body)
    assert response.status_code == 400
    sentence = response.json()["detail"]

    data = tmp_path / "cases.csv"
    data.write_bytes(demo_bytes)
    result = CliRunner().invoke(
        app, ["release", str(data), *cli_flags, "-o", str(tmp_path / "out")], terminal_width=500
    )
    assert result.exit_code == 2
    assert sentence in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()
