"""Classic k-anonymization on a hand-made table with known answers."""

from __future__ import annotations

import json

import polars as pl
import pytest

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.data.encode import encode
from dpshowcase.errors import ParameterError
from dpshowcase.kanon.baseline import k_anonymize
from dpshowcase.kanon.compare import compare
from dpshowcase.kanon.hierarchy import check_hierarchy, load_hierarchy
from dpshowcase.schema.model import Schema

ROWS = (
    [("Female", "18--20", "UKR", "1")] * 3
    + [("Female", "21--23", "UKR", "")] * 2
    + [("Male", "18--20", "PHL", "1")]
    + [("Male", "21--23", "PHL", "")] * 4
    + [("Female", "", "UKR", "1")]
)
AGE_BANDS = {"age": {"18--20": "18--23", "21--23": "18--23"}}


@pytest.fixture(scope="module")
def table():
    frame = pl.DataFrame(
        {name: [r[i] for r in ROWS] for i, name in enumerate(("gender", "age", "country", "flag"))}
    )
    return encode(frame, Schema.all_categorical(frame.columns))


def test_records_in_groups_below_k_are_dropped(table):
    result = k_anonymize(table, ["gender", "age", "country"], 3)
    report = result.report
    assert report.records == 11
    assert report.kept == 7  # 3 × (Female, 18--20) and 4 × (Male, 21--23)
    assert report.dropped == 4
    assert report.unique_before == 2  # (Male, 18--20, PHL) and the empty age
    assert report.below_k_before == 4
    assert report.classes == 2
    assert result.records.n_records == 7
    frame = result.records.to_frame()
    assert sorted(frame["age"].to_list()) == ["18--20"] * 3 + ["21--23"] * 4
    assert frame["flag"].to_list().count("1") == 3  # other columns are kept as they were


def test_an_empty_cell_is_a_value_of_its_own(table):
    result = k_anonymize(table, ["gender", "country"], 2)
    assert result.report.kept == 11  # (Female, UKR) 6, (Male, PHL) 5
    result = k_anonymize(table, ["age"], 2)
    assert result.report.kept == 10  # the one empty age is alone


def test_a_hierarchy_merges_values_before_suppression(table):
    result = k_anonymize(table, ["gender", "age", "country"], 3, AGE_BANDS)
    report = result.report
    assert report.kept == 10  # only the record with no age is alone
    assert report.values_generalised == 2
    assert report.unique_before == 2  # measured before generalisation
    assert set(result.records.to_frame()["age"].to_list()) == {"18--23"}
    assert report.as_dict()["dropped_share"] == pytest.approx(1 / 11, abs=1e-6)


def test_the_loss_of_a_release_is_measured_against_the_original(table):
    exact = count_combinations(table, 2)
    result = k_anonymize(table, ["gender", "age", "country"], 3)
    loss = compare("baseline", result.records, exact, 3, table.n_records)
    singles = loss.lengths[0]
    assert singles.sensitive == 7
    assert singles.preserved == 7  # every value survives in some kept record
    assert singles.fabricated == 0
    assert singles.mean_relative_error > 0  # but with fewer records
    pairs = loss.lengths[1]
    assert pairs.suppressed > 0  # e.g. (Male, 18--20) went with its only record
    generalised = compare(
        "baseline", k_anonymize(table, ["age"], 3, AGE_BANDS).records, exact, 3, 11
    )
    assert generalised.lengths[0].generalised == 1  # age:18--23
    assert generalised.lengths[0].preserved == 5  # both ages are replaced by the group


@pytest.mark.parametrize(
    ("quasi", "k", "hierarchy", "message"),
    [
        (["gender"], 1, None, "k must be a whole number of at least 2"),
        (["gender", "nationality"], 3, None, "Unknown quasi-identifier 'nationality'"),
        ([" ", ""], 3, None, "Name at least one quasi-identifier"),
        (["gender"], 3, AGE_BANDS, "generalises 'age', which is not a quasi-identifier"),
    ],
    ids=["k-1", "unknown-column", "no-columns", "hierarchy-not-quasi"],
)
def test_bad_input_is_refused(table, quasi, k, hierarchy, message):
    with pytest.raises(ParameterError, match=message):
        k_anonymize(table, quasi, k, hierarchy)


def test_hierarchy_files_in_toml_and_json(tmp_path):
    toml = tmp_path / "h.toml"
    toml.write_text('[age]\n"18--20" = "18--23"\n"21--23" = "18--23"\n', encoding="utf-8")
    assert load_hierarchy(toml) == AGE_BANDS
    as_json = tmp_path / "h.json"
    as_json.write_text(json.dumps(AGE_BANDS), encoding="utf-8")
    assert load_hierarchy(as_json) == AGE_BANDS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[age\n", "is not valid TOML"),
        ('age = "x"\n', "must be a table of value = group"),
        ('[age]\n"18--20" = 3\n', "must map to a group name"),
    ],
)
def test_malformed_hierarchy_files_are_refused(tmp_path, text, message):
    path = tmp_path / "h.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError, match=message):
        load_hierarchy(path)
    with pytest.raises(ParameterError, match="does not exist"):
        load_hierarchy(tmp_path / "missing.toml")
    with pytest.raises(ParameterError, match="must map column names"):
        check_hierarchy(["age"])
