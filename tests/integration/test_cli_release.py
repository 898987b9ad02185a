"""``dpshowcase release`` end to end: demo data in, a complete bundle out, clear refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from dpshowcase.cli.main import app
from dpshowcase.release.bundle import BUNDLE_FILES
from dpshowcase.synthesize.aggregate_seeded import DEFAULT_ROW_SHARE

runner = CliRunner()

RELEASE_ARGS = ["--epsilon", "4", "--seed", "1", "--reporting-length", "2"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli_release")


@pytest.fixture(scope="module")
def demo_csv(folder) -> Path:
    path = folder / "demo.csv"
    result = runner.invoke(app, ["demo-data", "--rows", "3000", "--output", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def released(demo_csv, folder):
    output = folder / "release"
    result = runner.invoke(app, ["release", str(demo_csv), *RELEASE_ARGS, "--output", str(output)])
    assert result.exit_code == 0, result.output
    return result, output


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_release_writes_every_file(released):
    _, output = released
    expected = {*BUNDLE_FILES, "noisy_aggregates.csv"}
    assert {p.name for p in output.iterdir()} >= expected


def test_synthetic_data_agree_with_the_published_counts(released):
    """aggregates.csv holds the measured single counts and the synthetic data's own counts
    of every longer released combination, except those parameters.json says it raised
    towards their measurement (the records fell more than two noise scales short)."""
    from dpshowcase.aggregate.count import count_combinations
    from dpshowcase.data.prepare import prepare
    from dpshowcase.schema.model import Schema

    _, output = released
    synthetic = pl.read_csv(output / "synthetic.csv", infer_schema=False)
    published = pl.read_csv(output / "aggregates.csv", schema_overrides={"combination": pl.String})
    noisy = pl.read_csv(
        output / "noisy_aggregates.csv", schema_overrides={"combination": pl.String}
    )
    # released = listed in aggregates.csv (count >= 1); the measurements keep the rest
    listed = published.get_column("combination").to_list()
    assert set(listed) <= set(noisy.get_column("combination").to_list())
    assert published.get_column("count").min() >= 1
    recount = count_combinations(prepare(synthetic, Schema.all_categorical(synthetic.columns)), 2)
    synthetic_counts = dict(zip(recount.labels().to_list(), recount.counts.tolist(), strict=True))
    measured = dict(noisy.select("combination", "count").iter_rows())
    raised = read_json(output / "parameters.json").get("raised_to_measurement", {})
    above = 0
    for combination, length, count in published.select(
        "combination", "length", "count"
    ).iter_rows():
        if length == 1:
            assert count == measured[combination], combination
        elif count != synthetic_counts.get(combination, 0):
            assert count > synthetic_counts.get(combination, 0), combination
            above += 1
    assert above == sum(raised.values())


def test_the_datasheet_lists_exactly_the_bundle_files(released):
    _, output = released
    text = (output / "README.md").read_text(encoding="utf-8")
    table = text.split("## Files")[1].split("\n## ")[0]
    cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    listed = sorted(name.strip().strip("`") for cell in cells for name in cell.split(","))
    assert "noisy_aggregates.csv" in listed
    assert sorted(p.name for p in output.iterdir()) == listed


def test_the_synthesis_settings_are_stated(released, demo_csv, folder):
    _, output = released
    stated = read_json(output / "parameters.json")["synthesis"]
    # no weight given: the one chosen from the data is stated, and where it came from
    assert 3 <= stated["fabrication_weight"] <= 4
    assert stated["fabrication_weight_from"].startswith("the data: ")
    sheet = (output / "README.md").read_text()
    assert f"weighed each such occurrence {stated['fabrication_weight']:g} times" in sheet
    assert "The weight was chosen from the data: " in sheet
    assert stated["row_share"] == DEFAULT_ROW_SHARE
    config = folder / "release.toml"
    config.write_text(f'data = "{demo_csv}"\nepsilon = 4\nfabrication_weight = 5\nrow_share = 2\n')
    other = folder / "weighted"
    result = runner.invoke(app, ["release", "--config", str(config), "--seed", "1",
                                 "-r", "2", "--output", str(other)])  # fmt: skip
    assert result.exit_code == 0, result.output
    stated = read_json(other / "parameters.json")["synthesis"]
    assert stated["fabrication_weight"] == 5.0
    assert stated["row_share"] == 2.0
    sheet = (other / "README.md").read_text()
    assert "weighed each such occurrence 5 times" in sheet
    assert stated["fabrication_weight_from"] == "given"
    assert "The weight was chosen" not in sheet
    assert "holds up to 2 records per protected record" in sheet, "rows beyond cases are said"
    assert "records per protected record" not in (output / "README.md").read_text()


def test_synthetic_csv_has_the_input_columns(released, demo_csv):
    _, output = released
    header = demo_csv.read_text(encoding="utf-8").splitlines()[0]
    assert (output / "synthetic.csv").read_text(encoding="utf-8").splitlines()[0] == header
    synthetic = pl.read_csv(output / "synthetic.csv", infer_schema=False)
    parameters = read_json(output / "parameters.json")
    # the default synthesis adds up to a quarter more (sparse) records
    share = parameters["synthesis"]["row_share"]
    assert synthetic.height <= round(parameters["protected_record_count"] * share)
    assert parameters["protected_record_count"] - 300 < synthetic.height < 1.25 * 3300
    assert pl.read_parquet(output / "synthetic.parquet").height == synthetic.height


def test_aggregates_csv_has_the_count_header(released):
    _, output = released
    lines = (output / "aggregates.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "combination,length,count"
    lengths = {int(line.rsplit(",", 2)[1]) for line in lines[1:]}
    assert lengths == {1, 2}


def test_parameters_json_states_the_guarantee_and_is_not_for_release(released):
    _, output = released
    parameters = read_json(output / "parameters.json")
    assert parameters["guarantee"].startswith("(ε=4, δ=")
    assert parameters["epsilon"] == 4.0
    assert 0 < parameters["delta"] < 1e-3
    assert [entry["length"] for entry in parameters["lengths"]] == [1, 2]
    assert all("sigma" in e and "threshold" in e for e in parameters["lengths"])
    assert parameters["not_for_release"] is True
    assert "NOT differentially private" in parameters["warning"]
    assert read_json(output / "manifest.json")["not_for_release"] is True
    assert "NOT FOR RELEASE" in (output / "README.md").read_text(encoding="utf-8")


def test_console_shows_stages_the_seed_warning_and_the_guarantee(released):
    result, output = released
    text = result.output
    for stage in ("Reading and encoding", "Protecting:", "Synthesizing", "Writing the bundle"):
        assert stage in text
    assert "Protecting: noisy counts of length 2" in text
    assert "NOT differentially private and NOT for release" in text
    guarantee = read_json(output / "parameters.json")["guarantee"]
    assert f"Guarantee: {guarantee}" in text
    assert str(output) in text
    assert "Error" not in text


def test_config_file_with_flag_override_reproduces_the_seeded_run(released, demo_csv, folder):
    """The same settings through a config file (epsilon overridden by a flag) and the
    same seed give byte-identical outputs; --overwrite replaces an earlier bundle."""
    _, first = released
    second = folder / "from-config"
    shutil.copytree(first, second)
    (second / "noisy_aggregates.csv").unlink()  # an earlier bundle: replaced as a whole
    config = folder / "release.toml"
    config.write_text(
        f'data = "{demo_csv.name}"\noutput = "{second.name}"\n'
        "epsilon = 1\nreporting_length = 2\nseed = 1\n\n[dp]\npercentile_percentage = 99\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["release", "--config", str(config), "--epsilon", "4", "--overwrite"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in second.iterdir()) == sorted({*(p.name for p in first.iterdir())})
    for name in (
        "synthetic.csv",
        "aggregates.csv",
        "noisy_aggregates.csv",
        "parameters.json",
        "README.md",
    ):
        assert (second / name).read_bytes() == (first / name).read_bytes(), name


def test_an_existing_output_is_refused_before_any_work(demo_csv, tmp_path):
    output = tmp_path / "out"
    output.mkdir()
    (output / "keep.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["release", str(demo_csv), "--epsilon", "4", "-o", str(output)])
    assert result.exit_code == 2
    assert "already exists; choose a new folder or pass --overwrite" in result.output
    assert "Reading and encoding" not in result.output
    assert [p.name for p in output.iterdir()] == ["keep.txt"]


def test_an_unseeded_release_is_private_and_says_nothing_of_seeds(demo_csv, tmp_path):
    output = tmp_path / "private"
    result = runner.invoke(
        app, ["release", str(demo_csv), "--epsilon", "4", "-r", "2", "-o", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert "NOT" not in result.output
    parameters = read_json(output / "parameters.json")
    assert parameters["not_for_release"] is False
    assert "warning" not in parameters
    assert "OpenDP" in parameters["noise_source"]
    assert "NOT FOR RELEASE" not in (output / "README.md").read_text(encoding="utf-8")
