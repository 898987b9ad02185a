"""The release config file: parsing, paths, overrides by flags, and clear refusals."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dpshowcase.errors import ParameterError
from dpshowcase.release.config import DP_KEYS, ReleaseConfig, config_from_dict, load_config

FULL = """
data = "cases.csv"
schema = "schemas/schema.toml"
output = "/tmp/release-out"
epsilon = 4
delta = 1e-6
reporting_length = 2
seed = 7
null_values = ["N"]
allow_large_delta = true

[dp]
number_of_records_epsilon_proportion = 0.01
percentile_percentage = 95
percentile_epsilon_proportion = 0.2
sigma_proportions = [1.0, 0.5]
thresholds = [3.0]
adaptive_factors = 0.5
record_count_public = 3000
edges_epsilon_proportion = 0.05
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "release.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_full_file_is_read_with_paths_relative_to_it(tmp_path):
    config = load_config(write(tmp_path, FULL))
    assert config.data == tmp_path / "cases.csv"
    assert config.schema == tmp_path / "schemas" / "schema.toml"
    assert config.output == Path("/tmp/release-out")  # absolute paths stay
    assert (config.epsilon, config.delta, config.reporting_length, config.seed) == (4, 1e-6, 2, 7)
    assert config.null_values == ("N",)
    assert set(config.dp) == set(DP_KEYS)
    params = config.dp_parameters()
    assert params.epsilon == 4.0
    assert params.delta == 1e-6
    assert params.edges_epsilon_proportion == 0.05
    assert params.allow_large_delta
    assert not params.allow_large_epsilon
    assert params.reporting_length == 2
    assert params.percentile_percentage == 95
    assert params.sigma_proportions == (1.0, 0.5)
    assert params.thresholds == (3.0,)
    assert params.adaptive_factors == (0.5,)
    assert params.record_count_public == 3000


def test_config_is_frozen(tmp_path):
    config = load_config(write(tmp_path, FULL))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.epsilon = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.dp["thresholds"] = "adaptive"  # type: ignore[index]


def test_flags_override_the_file_and_none_means_not_given(tmp_path):
    config = load_config(write(tmp_path, FULL)).override(
        epsilon=1.5,
        delta=None,
        reporting_length=None,
        data=Path("other.csv"),
        seed=None,
        percentile_percentage=90.0,
        record_count_public=None,
        null_values=("NA",),
    )
    assert config.epsilon == 1.5
    assert config.delta == 1e-6
    assert config.reporting_length == 2
    assert config.data == Path("other.csv")
    assert config.seed == 7
    assert config.dp["percentile_percentage"] == 90.0
    assert config.dp["record_count_public"] == 3000
    assert config.null_values == ("N", "NA")


def test_without_a_file_flags_alone_make_the_parameters():
    params = ReleaseConfig().override(epsilon=2.0, record_count_public=10).dp_parameters()
    assert params.epsilon == 2.0
    assert params.reporting_length == 3  # the default
    assert params.delta is None
    assert params.record_count_public == 10


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("epsilon = 4\nepsilom = 3\n", r"unknown key\(s\) \['epsilom'\]; allowed are"),
        ("epsilon = 4\nsigma_proportions = 'even'\n", r"advanced DP parameters go in a \[dp\]"),
        (
            "epsilon = 4\n[dp]\npercentile = 99\n",
            r"In the config file .*: Unknown advanced DP parameter\(s\) \['percentile'\]",
        ),
        ("epsilon = 4\ndp = 3\n", r"must be a table"),
        ("epsilon = 'four'\n", "In the config file .*: epsilon must be a number"),
        ("epsilon = true\n", "In the config file .*: epsilon must be a number"),
        ("reporting_length = 2.5\n", "reporting length must be a whole number"),
        ("seed = -1\n", "seed must be a whole number from 0 to 2\\^64 - 1"),
        ("data = 3\n", "In the config file .*: data must be a path"),
        ("null_values = 'N'\n", "null values must be a list of strings"),
        ("epsilon = \n", "is not valid TOML"),
    ],
    ids=[
        "unknown-key",
        "dp-key-at-top",
        "unknown-dp-key",
        "dp-not-table",
        "epsilon-text",
        "epsilon-bool",
        "length-float",
        "negative-seed",
        "path-number",
        "nulls-string",
        "bad-toml",
    ],
)
def test_bad_files_are_refused_with_a_sentence(tmp_path, text, message):
    with pytest.raises(ParameterError, match=message):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"epsilon": 0}, "epsilon must be a positive finite number"),
        ({"epsilon": -1}, "epsilon must be a positive finite number"),
        ({"epsilon": 4, "delta": 1}, "delta must be strictly between 0 and 1"),
        ({"epsilon": 4, "reporting_length": 0}, "reporting length must be a whole number"),
        ({"epsilon": 4, "dp": {"thresholds": [1.0]}}, "one fixed value per length"),
        ({"epsilon": 4, "dp": {"percentile_percentage": 101}}, r"must be in \(0, 100\]"),
        ({}, "No privacy budget was given; pass --epsilon"),
    ],
    ids=["eps-0", "eps-neg", "delta-1", "length-0", "thresholds", "percentile", "no-eps"],
)
def test_bad_values_are_refused_by_the_dp_parameters(values, message):
    with pytest.raises(ParameterError, match=message):
        config_from_dict(values).dp_parameters()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("epsilon", -1.0),
        ("epsilon", "four"),
        ("delta", 2.0),
        ("reporting_length", 0),
        ("reporting_length", 99),
        ("fabrication_weight", 0.0),
        ("seed", -1),
        ("allow_large_epsilon", "yes"),
        ("lineage", "has spaces and / slashes"),
    ],
)
def test_a_bad_value_gets_the_same_sentence_from_a_file_as_from_a_flag(key, value):
    """One place checks types and ranges: the file's refusal is the flag's sentence,
    after the name of the file."""
    with pytest.raises(ParameterError) as from_flag:
        ReleaseConfig().override(**{key: value})
    with pytest.raises(ParameterError) as from_file:
        config_from_dict({key: value}, source="the config file r.toml")
    assert str(from_file.value) == f"In the config file r.toml: {from_flag.value}"


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ParameterError, match="is a folder"):
        load_config(tmp_path)


def test_unknown_dp_key_given_in_code_is_refused():
    with pytest.raises(ParameterError, match="Unknown advanced DP parameter"):
        ReleaseConfig(epsilon=1.0, dp={"sigma": 1})
    with pytest.raises(ParameterError, match="Unknown release setting"):
        ReleaseConfig().override(epsilom=1.0)


def test_lineage_settings_are_read_with_the_ledger_relative_to_the_file(tmp_path):
    path = tmp_path / "release.toml"
    path.write_text(
        'lineage = "ctdc-cases"\nledger = "books/ledger.db"\nid_column = "case_id"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert (config.lineage, config.id_column) == ("ctdc-cases", "case_id")
    assert config.ledger == tmp_path / "books" / "ledger.db"
    assert config.override(lineage="other").lineage == "other"
    with pytest.raises(ParameterError, match="lineage"):
        config_from_dict({"lineage": 3})
