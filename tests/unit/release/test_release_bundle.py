"""The release bundle: its files, their contents, checksums and the manifest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from dpshowcase import __version__
from dpshowcase.aggregate.io import read_counts
from dpshowcase.errors import InputError, InternalError
from dpshowcase.release.bundle import (
    BUNDLE_FILES,
    REPORT_FILES,
    check_output,
    release_columns,
    release_parameters,
    write_release,
)
from dpshowcase.schema.toml_io import schema_to_dict

EXPECTED_COLUMNS = ["means", "age", "gender", "empty"]


@pytest.fixture
def bundle(tmp_path, aggregates, schema, synthetic, input_columns):
    """A bundle written from the hand-made release, and its summary."""
    output = tmp_path / "release"
    summary = write_release(
        output,
        aggregates=aggregates,
        synthetic=synthetic,
        schema=schema,
        input_columns=input_columns,
        source_name="cases.csv",
    )
    return output, summary


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_bundle_holds_exactly_its_files_and_no_temporaries(bundle, tmp_path):
    output, summary = bundle
    assert sorted(p.name for p in output.iterdir()) == sorted([*BUNDLE_FILES, *REPORT_FILES])
    assert [p.name for p in tmp_path.iterdir()] == ["release"]
    assert summary.path == output
    assert summary.synthetic_rows == 4
    assert summary.combinations == 11
    assert summary.record_count == 101
    assert summary.private


def test_synthetic_csv_has_the_inputs_attribute_columns_in_its_order(bundle):
    output, _ = bundle
    csv = pl.read_csv(output / "synthetic.csv", infer_schema=False)
    assert csv.columns == EXPECTED_COLUMNS
    assert csv.get_column("means").to_list() == ["debt;threats", None, "debt", "threats"]
    assert csv.get_column("empty").null_count() == 4  # no value of it was released
    header, first = (output / "synthetic.csv").read_text(encoding="utf-8").splitlines()[:2]
    assert header == "means,age,gender,empty"
    assert first == "debt;threats,18--99,Female,"  # absence is a bare empty field


def test_synthetic_parquet_matches_and_uses_empty_strings(bundle):
    output, _ = bundle
    parquet = pl.read_parquet(output / "synthetic.parquet")
    assert parquet.columns == EXPECTED_COLUMNS
    assert all(dtype == pl.String for dtype in parquet.dtypes)
    assert parquet.null_count().sum_horizontal().item() == 0
    assert parquet.get_column("gender").to_list() == ["Female", "Male", "", "Female"]
    csv = pl.read_csv(output / "synthetic.csv", infer_schema=False).fill_null("")
    assert csv.equals(parquet)


def test_aggregates_csv_is_the_count_table(bundle, aggregates):
    output, _ = bundle
    text = (output / "aggregates.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "combination,length,count"
    table = read_counts(output / "aggregates.csv")
    assert table.equals(aggregates.counts.to_frame())
    assert "gender:Female;age:18--99" in table.get_column("combination").to_list()


def test_manifest_checksums_sizes_version_schema_and_rows(bundle, schema):
    output, _ = bundle
    manifest = read_json(output / "manifest.json")
    assert set(manifest["files"]) == {*BUNDLE_FILES, *REPORT_FILES} - {"manifest.json"}
    for name, entry in manifest["files"].items():
        data = (output / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    assert manifest["version"] == __version__
    created = dt.datetime.strptime(manifest["created"], "%Y-%m-%dT%H:%M:%SZ")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert abs((now - created).total_seconds()) < 600
    assert manifest["schema"] == schema_to_dict(schema)
    assert manifest["rows"] == {
        "synthetic.csv": 4,
        "aggregates.csv": 11,
        "protected_record_count": 101,
    }
    assert manifest["columns"] == EXPECTED_COLUMNS
    assert manifest["source"] == "cases.csv"
    assert manifest["not_for_release"] is False


def test_parameters_start_with_the_guarantee_and_keep_every_parameter(bundle, aggregates):
    output, _ = bundle
    parameters = read_json(output / "parameters.json")
    assert next(iter(parameters)) == "guarantee"
    assert parameters["guarantee"] == aggregates.guarantee
    assert parameters["mode"] == "dp"
    assert parameters["not_for_release"] is False
    assert "warning" not in parameters
    assert parameters["privacy_unit"] == "record"
    assert parameters["protected_record_count"] == 101
    assert parameters["record_count_public"] is False
    for key in ("epsilon", "delta", "reporting_length", "percentile_percentage", "noise_source"):
        assert parameters[key] == aggregates.parameters[key]
    assert parameters["lengths"][0]["sensitivity"] == 4  # numpy integers become numbers
    assert [entry["threshold"] for entry in parameters["lengths"]] == [25.0, 0.0]


def test_seeded_aggregates_are_stamped_not_for_release(tmp_path, aggregates_factory, schema):
    seeded = aggregates_factory(private=False)
    parameters = release_parameters(seeded)
    assert parameters["not_for_release"] is True
    assert "NOT differentially private" in parameters["warning"]
    summary = write_release(
        tmp_path / "out",
        aggregates=seeded,
        synthetic=pl.DataFrame({"gender": ["Male"]}),
        schema=schema,
        input_columns=["gender", "age", "means", "empty"],
        source_name="x.csv",
    )
    assert not summary.private
    assert read_json(tmp_path / "out" / "manifest.json")["not_for_release"] is True
    assert read_json(tmp_path / "out" / "parameters.json")["not_for_release"] is True


def test_multi_value_cells_use_the_schemas_delimiter(tmp_path, aggregates, schema_factory):
    write_release(
        tmp_path / "out",
        aggregates=aggregates,
        synthetic=pl.DataFrame({"means": ["debt;threats", "", "debt"]}),
        schema=schema_factory(multi_delimiter="|"),
        input_columns=["gender", "age", "means", "empty"],
        source_name="x.csv",
    )
    parquet = pl.read_parquet(tmp_path / "out" / "synthetic.parquet")
    # the all-empty row is not written (a row of empty cells describes nobody)
    assert parquet.get_column("means").to_list() == ["debt|threats", "debt"]


def test_release_columns_follow_the_input_and_drop_other_columns(schema_factory):
    schema = schema_factory(subject_id="caseId")
    assert release_columns(schema, ["caseId", "empty", "gender", "x"]) == [
        "empty",
        "gender",
        "age",
        "means",
    ]


def test_an_existing_output_is_refused_and_left_alone(bundle, aggregates, schema, synthetic):
    output, _ = bundle
    before = {p.name: p.read_bytes() for p in output.iterdir()}
    with pytest.raises(InputError, match="already exists; choose a new folder or pass --overwrite"):
        write_release(
            output,
            aggregates=aggregates,
            synthetic=synthetic.head(1),
            schema=schema,
            input_columns=list(schema.column_names),
            source_name="x.csv",
        )
    assert {p.name: p.read_bytes() for p in output.iterdir()} == before


def test_overwrite_replaces_the_whole_folder(bundle, aggregates, schema, synthetic):
    output, _ = bundle
    (output / "noisy_aggregates.csv").write_text("combination,length,count\n", encoding="utf-8")
    summary = write_release(
        output,
        aggregates=aggregates,
        synthetic=synthetic.head(2),
        schema=schema,
        input_columns=list(schema.column_names),
        source_name="x.csv",
        overwrite=True,
    )
    assert summary.synthetic_rows == 2
    assert sorted(p.name for p in output.iterdir()) == sorted([*BUNDLE_FILES, *REPORT_FILES])


def test_overwrite_keeps_a_bundle_holding_other_files(bundle, aggregates, schema, synthetic):
    """A file no bundle holds (the input, notes) would be deleted: refused, left as it is."""
    output, _ = bundle
    (output / "cases.csv").write_text("the sensitive input", encoding="utf-8")
    before = sorted(p.name for p in output.iterdir())
    with pytest.raises(InputError, match=r"would delete cases\.csv"):
        write_release(
            output,
            aggregates=aggregates,
            synthetic=synthetic.head(2),
            schema=schema,
            input_columns=list(schema.column_names),
            source_name="x.csv",
            overwrite=True,
        )
    assert sorted(p.name for p in output.iterdir()) == before


def test_check_output_refuses_a_missing_parent_and_a_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        check_output(tmp_path / "missing" / "out")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="is a file"):
        check_output(tmp_path / "file", overwrite=True)
    (tmp_path / "empty").mkdir()
    check_output(tmp_path / "empty")  # an empty folder may become the bundle


def test_synthetic_columns_outside_the_schema_are_a_bug(tmp_path, aggregates, schema):
    with pytest.raises(InternalError, match="columns the schema does not release"):
        write_release(
            tmp_path / "out",
            aggregates=aggregates,
            synthetic=pl.DataFrame({"gender": ["Male"], "caseId": ["17"]}),
            schema=schema,
            input_columns=["gender"],
            source_name="x.csv",
        )
    assert not (tmp_path / "out").exists()
