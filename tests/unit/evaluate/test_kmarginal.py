"""Tests of the NIST CRC / SDNist v2.3 k-marginal score."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from dpshowcase.errors import InputError, ParameterError, SchemaError
from dpshowcase.evaluate.kmarginal import NULL_GROUP_KEY, k_marginal_score

INDUSTRY_FEATURES = [
    "PUMA",
    "SEX",
    "MSP",
    "HISP",
    "RAC1P",
    "OWN_RENT",
    "INDP_CAT",
    "EDU",
    "PINCP_DECILE",
]


def _frame(rows: list[tuple[str | None, ...]], names: list[str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict.fromkeys(names, pl.String), orient="row")


# --- hand-computed cases -----------------------------------------------------------


def test_pair_marginal_by_hand():
    # Target (a, b): (x,p) (x,q) (y,p) (y,p)   -> densities x,p .25  x,q .25  y,p .50
    # Deid   (a, b): (x,p) (y,q)               -> densities x,p .50  y,q .50
    # |t - d| per cell: x,p .25 + x,q .25 + y,p .50 + y,q .50 = TVD 1.5
    # one marginal: score = (2 - 1.5) * 500 = 250
    target = _frame([("x", "p"), ("x", "q"), ("y", "p"), ("y", "p")], ["a", "b"])
    deid = _frame([("x", "p"), ("y", "q")], ["a", "b"])
    result = k_marginal_score(target, deid, k=2)
    assert result.overall == pytest.approx(250.0)
    assert result.overall_sdnist == 250
    assert result.per_group == {}
    assert result.n_marginals == 1


def test_one_way_marginals_by_hand():
    # Same tables, k=1: marginals {a} and {b}.
    # a: target x .5 y .5, deid x .5 y .5 -> TVD 0
    # b: target p .75 q .25, deid p .5 q .5 -> TVD .25 + .25 = .5
    # mean TVD .25 -> (2 - .25) * 500 = 875
    target = _frame([("x", "p"), ("x", "q"), ("y", "p"), ("y", "p")], ["a", "b"])
    deid = _frame([("x", "p"), ("y", "q")], ["a", "b"])
    result = k_marginal_score(target, deid, k=1)
    assert result.overall == pytest.approx(875.0)
    assert result.n_marginals == 2


def test_grouped_by_hand_including_the_cap():
    # Target (g, a): (g1,x) (g1,y) (g2,x) (g2,x)   N = 4, N_g1 = N_g2 = 2
    # Deid   (g, a): (g1,x) (g1,x) (g1,x) (g2,x)   M = 4
    # Cells of the marginal {g, a}, whole-table densities:
    #   (g1,x): t .25 d .75 -> .50 ; (g1,y): t .25 d 0 -> .25 ; (g2,x): t .50 d .25 -> .25
    # overall: TVD 1.0 -> (2 - 1) * 500 = 500
    # g1: sum .75, capped at target share N_g1/N = .5, times N/N_g1 = 2 -> 1.0 -> score 0
    # g2: sum .25 (< .5), times 2 -> .5 -> score (1 - .5) * 1000 = 500
    target = _frame([("g1", "x"), ("g1", "y"), ("g2", "x"), ("g2", "x")], ["g", "a"])
    deid = _frame([("g1", "x"), ("g1", "x"), ("g1", "x"), ("g2", "x")], ["g", "a"])
    result = k_marginal_score(target, deid, k=2, group_column="g")
    assert result.overall == pytest.approx(500.0)
    assert result.per_group == pytest.approx({"g1": 0.0, "g2": 500.0})
    assert result.columns == ("a",)
    assert result.group_column == "g"


def test_identical_data_scores_1000():
    target = _frame(
        [("g1", "x", "p", None), ("g1", "y", "q", "1"), ("g2", "x", "q", "2")],
        ["g", "a", "b", "c"],
    )
    shuffled = target.reverse()
    result = k_marginal_score(target, shuffled, group_column="g")
    assert result.overall == pytest.approx(1000.0)
    assert result.per_group == pytest.approx({"g1": 1000.0, "g2": 1000.0})
    assert k_marginal_score(target, target, k=2).overall == pytest.approx(1000.0)


def test_duplicated_rows_keep_the_same_distribution():
    # Densities, not counts, are compared: doubling every row changes nothing.
    target = _frame([("x", "p"), ("y", "q"), ("y", "p")], ["a", "b"])
    result = k_marginal_score(target, pl.concat([target, target]), k=2)
    assert result.overall == pytest.approx(1000.0)


def test_disjoint_supports_score_0():
    target = _frame([("x", "p"), ("y", "q")], ["a", "b"])
    deid = _frame([("z", "r"), ("w", "s")], ["a", "b"])
    assert k_marginal_score(target, deid, k=2).overall == pytest.approx(0.0)
    assert k_marginal_score(target, deid, k=1).overall == pytest.approx(0.0)


def test_disjoint_supports_score_0_per_group():
    target = _frame([("g1", "x", "p"), ("g2", "y", "q")], ["g", "a", "b"])
    deid = _frame([("g1", "z", "r"), ("g2", "w", "s")], ["g", "a", "b"])
    result = k_marginal_score(target, deid, group_column="g")
    assert result.overall == pytest.approx(0.0)
    assert result.per_group == pytest.approx({"g1": 0.0, "g2": 0.0})


def test_integer_codes_written_as_floats_match():
    target = pl.DataFrame({"SEX": ["1", "2", "2"], "RAC1P": [1, 8, 1]})
    deid = pl.DataFrame({"SEX": ["1.0", "2.0", "2.0"], "RAC1P": [1.0, 8.0, 1.0]})
    assert k_marginal_score(target, deid, k=2).overall == pytest.approx(1000.0)


def test_missing_values_are_their_own_category():
    target = _frame([(None, "p"), ("x", "q")], ["a", "b"])
    same = _frame([("x", "q"), (None, "p")], ["a", "b"])
    assert k_marginal_score(target, same, k=2).overall == pytest.approx(1000.0)
    # A null is not the ACS code "N": (null,p) t .5 d 0 and (N,p) t 0 d .5, so
    # TVD = .5 + .5 = 1 -> (2 - 1) * 500 = 500.
    coded = _frame([("N", "p"), ("x", "q")], ["a", "b"])
    assert k_marginal_score(target, coded, k=2).overall == pytest.approx(500.0)


def test_null_group_value_is_reported_under_its_own_key():
    target = _frame([(None, "x"), ("g1", "y")], ["g", "a"])
    result = k_marginal_score(target, target, k=2, group_column="g")
    assert result.per_group == pytest.approx({NULL_GROUP_KEY: 1000.0, "g1": 1000.0})


def test_groups_only_in_the_deidentified_data_are_not_scored():
    # Target all in g1; deid half in g1 (matching), half in an unseen g9.
    # Cells: (g1,x) t 1 d .5 -> .5 ; (g9,x) t 0 d .5 -> .5 ; TVD 1 -> overall 500.
    # g1: sum .5, share 1 -> .5 -> 500. g9 has no target rows and no score.
    target = _frame([("g1", "x"), ("g1", "x")], ["g", "a"])
    deid = _frame([("g1", "x"), ("g9", "x")], ["g", "a"])
    result = k_marginal_score(target, deid, k=2, group_column="g")
    assert result.overall == pytest.approx(500.0)
    assert result.per_group == pytest.approx({"g1": 500.0})


def test_columns_argument_restricts_the_marginals():
    target = _frame([("x", "p", "1"), ("y", "q", "2")], ["a", "b", "c"])
    deid = _frame([("x", "p", "9"), ("y", "q", "8")], ["a", "b", "c"])
    # c differs completely, but it is left out.
    assert k_marginal_score(target, deid, k=2, columns=["a", "b"]).overall == pytest.approx(1000.0)
    # with c: marginals ab (TVD 0), ac (2), bc (2) -> mean 4/3 -> (2 - 4/3) * 500
    assert k_marginal_score(target, deid, k=2).overall == pytest.approx(1000.0 / 3.0)


# --- the NIST anchor --------------------------------------------------------------


def test_reproduces_published_sdnist_scores_for_pacsynth_industry_ma2019(nist_acs: Path):
    target_path = nist_acs / "ma2019.csv"
    deid_path = nist_acs / "crc_pacsynth" / "pac_synth_e_1_industry_ma2019.csv"
    target = pl.read_csv(target_path, infer_schema_length=0).select(INDUSTRY_FEATURES)
    deid = pl.read_csv(deid_path, infer_schema_length=0).select(INDUSTRY_FEATURES)
    assert (target.height, deid.height) == (7634, 3240)

    result = k_marginal_score(target, deid, k=3, group_column="PUMA")

    # SDNist v2.3 report report_pac_synth_e_1_industry_ma2019_ma2019_06-19-2023T20.33.47
    assert result.n_marginals == 28  # PUMA x each pair of the 8 other features
    assert result.overall_sdnist == 492
    assert result.per_group_sdnist == {
        "25-00703": 49,
        "25-00503": 75,
        "25-02800": 194,
        "25-01000": 227,
        "25-01300": 251,
    }


# --- argument validation -----------------------------------------------------------


@pytest.fixture
def small() -> pl.DataFrame:
    return _frame([("g1", "x", "p"), ("g2", "y", "q")], ["g", "a", "b"])


@pytest.mark.parametrize("k", [0, -1])
def test_k_below_1_is_rejected(small, k):
    with pytest.raises(ParameterError, match="at least 1"):
        k_marginal_score(small, small, k=k)


def test_k_larger_than_the_columns_allow_is_rejected(small):
    with pytest.raises(ParameterError, match="lower k"):
        k_marginal_score(small, small, k=4)
    with pytest.raises(ParameterError, match="lower k"):
        k_marginal_score(small, small, k=4, group_column="g")
    # g + the two features is exactly k = 3: allowed.
    assert k_marginal_score(small, small, k=3, group_column="g").n_marginals == 1


def test_missing_column_is_a_schema_error(small):
    with pytest.raises(SchemaError, match="deidentified data has no column 'b'"):
        k_marginal_score(small, small.drop("b"), k=2)
    with pytest.raises(SchemaError, match="target data has no column 'zz'"):
        k_marginal_score(small, small, k=1, columns=["a", "zz"])
    with pytest.raises(SchemaError, match="no column 'h'"):
        k_marginal_score(small, small, k=2, group_column="h")


def test_group_column_listed_in_columns_is_rejected(small):
    with pytest.raises(ParameterError, match="group column 'g'"):
        k_marginal_score(small, small, k=2, columns=["g", "a"], group_column="g")


def test_repeated_or_string_columns_are_rejected(small):
    with pytest.raises(ParameterError, match="more than once"):
        k_marginal_score(small, small, k=1, columns=["a", "a"])
    with pytest.raises(ParameterError, match="single string"):
        k_marginal_score(small, small, k=1, columns="a")


def test_empty_data_is_rejected(small):
    with pytest.raises(InputError, match="deidentified data has no rows"):
        k_marginal_score(small, small.clear(), k=2)
