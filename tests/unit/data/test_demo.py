"""Tests of the bundled demo data generator (dpshowcase.data.demo).

Statistical checks run on one table of 250,000 rows (seed 0). At that size the standard
error of a share p is sqrt(p(1-p)/n) <= 0.001 over all rows and <= 0.0016 within a
gender (>= 100,000 rows each). Every bound below is stated next to the value the
generator's own distributions imply, and sits at least 10 standard errors away from it,
so a failure means the model changed, not bad luck.
"""

from __future__ import annotations

import re

import polars as pl
import pytest

from dpshowcase.data.demo import DEMO_COLUMNS, generate_demo_records
from dpshowcase.errors import ParameterError

N = 250_000

LABOUR_TYPES = (
    "typeOfLabourAgriculture",
    "typeOfLabourConstruction",
    "typeOfLabourDomesticWork",
    "typeOfLabourFishing",
    "typeOfLabourHospitality",
    "typeOfLabourManufacturing",
    "typeOfLabourOther",
)
SEX_TYPES = (
    "typeOfSexProstitution",
    "typeOfSexPornography",
    "typeOfSexRemoteInteractiveServices",
    "typeOfSexPrivateSexualServices",
)
MEANS = (
    "meansDebtBondageEarnings",
    "meansThreats",
    "meansAbusePsyPhySex",
    "meansFalsePromises",
    "meansDrugsAlcohol",
    "meansDenyBasicNeeds",
    "meansExcessiveWorkHours",
    "meansWithholdDocs",
)
RECRUITER = (
    "recruiterRelationIntimatePartner",
    "recruiterRelationFriend",
    "recruiterRelationFamily",
    "recruiterRelationOther",
)
FLAGS = (
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    *LABOUR_TYPES,
    *SEX_TYPES,
    *MEANS,
    *RECRUITER,
    "isAbduction",
)
EXPECTED_COLUMNS = (
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "majorityStatus",
    "citizenship",
    "CountryOfExploitation",
    "traffickMonths",
    *FLAGS[:3],
    *LABOUR_TYPES,
    *SEX_TYPES,
    *MEANS,
    *RECRUITER,
    "isAbduction",
    "dataSource",
)
AGE_BANDS = ("0--8", "9--17", "18--20", "21--23", "24--26", "27--29", "30--38", "39--47", "48+")
CHILD_BANDS = ("0--8", "9--17")
DURATIONS = ("0--12 (0-1 yr)", "13--24 (1-2 yrs)", "25+ (2+ yrs)")


@pytest.fixture(scope="module")
def records() -> pl.DataFrame:
    return generate_demo_records()  # the defaults: 250,000 rows, seed 0


def share(df: pl.DataFrame, predicate: pl.Expr) -> float:
    return df.select(predicate.mean()).item()


def is_set(column: str) -> pl.Expr:
    return pl.col(column) == "1"


# --- shape, types, domains ------------------------------------------------------------


def test_columns_are_the_documented_ones_in_order(records):
    assert DEMO_COLUMNS == EXPECTED_COLUMNS
    assert tuple(records.columns) == EXPECTED_COLUMNS


def test_every_column_is_a_string_and_nothing_is_null(records):
    assert all(dtype == pl.String for dtype in records.dtypes)
    assert records.null_count().sum_horizontal().item() == 0


def test_default_row_count(records):
    assert records.height == N


@pytest.mark.parametrize("rows", [1, 2, 17, 1000])
def test_row_count_is_what_was_asked(rows):
    df = generate_demo_records(rows, seed=3)
    assert df.height == rows
    assert tuple(df.columns) == EXPECTED_COLUMNS


def test_values_are_in_their_domains(records):
    def values(column: str) -> set[str]:
        return set(records[column].unique().to_list())

    assert values("gender") == {"Female", "Male", ""}
    assert values("ageBroad") == {*AGE_BANDS, ""}
    assert values("majorityStatus") == {"Adult", "Minor", ""}
    assert values("traffickMonths") == {*DURATIONS, ""}
    assert values("dataSource") == {"Case Management", "Hotline"}
    assert values("yearOfRegistration") == {str(y) for y in range(2002, 2025)}
    for column in FLAGS:
        assert values(column) == {"1", ""}, column
    iso3 = re.compile(r"[A-Z]{3}")
    for column in ("citizenship", "CountryOfExploitation"):
        assert "" in values(column)
        assert all(iso3.fullmatch(code) for code in values(column) - {""}), column


# --- determinism ---------------------------------------------------------------------


def test_same_seed_gives_the_same_table():
    assert generate_demo_records(5000, seed=11).equals(generate_demo_records(5000, seed=11))


def test_different_seeds_give_different_tables():
    a = generate_demo_records(5000, seed=11)
    b = generate_demo_records(5000, seed=12)
    assert not a.equals(b)
    # Not just one column: most columns differ somewhere.
    differing = [c for c in EXPECTED_COLUMNS if not a[c].equals(b[c])]
    assert len(differing) >= len(EXPECTED_COLUMNS) // 2


# --- consistency rules ----------------------------------------------------------------


def test_labour_types_only_with_forced_labour(records):
    any_labour_type = pl.any_horizontal(is_set(c) for c in LABOUR_TYPES)
    assert records.filter(any_labour_type & ~is_set("isForcedLabour")).height == 0
    # "usually at most one or two": never more than two.
    n_types = pl.sum_horizontal(is_set(c).cast(pl.Int8) for c in LABOUR_TYPES)
    assert records.select(n_types.max()).item() <= 2


def test_sex_types_only_with_sexual_exploitation(records):
    any_sex_type = pl.any_horizontal(is_set(c) for c in SEX_TYPES)
    assert records.filter(any_sex_type & ~is_set("isSexualExploit")).height == 0


def test_majority_status_matches_the_age_band(records):
    with_age = records.filter(pl.col("ageBroad") != "")
    # Whenever the age band is known, the majority status is present ...
    assert with_age.filter(pl.col("majorityStatus") == "").height == 0
    # ... and Minor exactly for the child bands.
    child = pl.col("ageBroad").is_in(CHILD_BANDS)
    minor = pl.col("majorityStatus") == "Minor"
    assert with_age.filter(child != minor).height == 0


def test_majority_status_sometimes_present_without_age(records):
    without_age = records.filter(pl.col("ageBroad") == "")
    assert without_age.filter(pl.col("majorityStatus") != "").height > 0
    assert without_age.filter(pl.col("majorityStatus") == "").height > 0


def test_destinations_are_plausible_for_filipinos(records):
    phl = records.filter((pl.col("citizenship") == "PHL") & (pl.col("CountryOfExploitation") != ""))
    allowed = {"PHL", "SAU", "ARE", "MYS", "KWT", "QAT", "HKG"}
    assert set(phl["CountryOfExploitation"].unique().to_list()) <= allowed


# --- statistics ----------------------------------------------------------------------


def test_sexual_exploitation_mostly_of_women_forced_labour_of_men(records):
    women = records.filter(pl.col("gender") == "Female")
    men = records.filter(pl.col("gender") == "Male")
    se_women = share(women, is_set("isSexualExploit"))  # model: ~0.56
    se_men = share(men, is_set("isSexualExploit"))  # model: ~0.06
    fl_men = share(men, is_set("isForcedLabour"))  # model: ~0.82
    assert se_women > 0.45
    assert se_men < 0.12
    assert se_women > 5 * se_men
    assert fl_men > 0.7


def test_domestic_work_mostly_for_women_in_forced_labour(records):
    labour = records.filter(is_set("isForcedLabour"))
    women = share(labour.filter(pl.col("gender") == "Female"), is_set("typeOfLabourDomesticWork"))
    men = share(labour.filter(pl.col("gender") == "Male"), is_set("typeOfLabourDomesticWork"))
    assert women > 3 * men  # model: ~0.40 vs ~0.05


def test_most_rows_have_a_type_of_exploitation(records):
    any_type = is_set("isForcedLabour") | is_set("isSexualExploit") | is_set("isOtherExploit")
    assert share(records, any_type) > 0.85  # model: ~0.95


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("gender", 0.03),
        ("ageBroad", 0.15),
        ("citizenship", 0.05),
        ("CountryOfExploitation", 0.079),  # 0.95 * 0.065 + 0.05 * 0.35
        ("traffickMonths", 0.70),
    ],
)
def test_missingness_is_as_designed(records, column, expected):
    assert share(records, pl.col(column) == "") == pytest.approx(expected, abs=0.015)


def test_detail_flags_are_mostly_empty(records):
    # The commonest detail flag is prostitution: ~0.35 sexual exploitation x ~0.6 = ~0.21.
    for column in (*LABOUR_TYPES, *SEX_TYPES, *MEANS, *RECRUITER):
        assert share(records, is_set(column)) < 0.3, column
    assert share(records, is_set("isAbduction")) < 0.05  # model: ~0.02


def test_means_of_control_co_occur(records):
    # All means flags share a "recorded" gate (P ~ 0.37), so for two of them
    # P(A and B) / (P(A) P(B)) is at least 1 / 0.37 ~ 2.7 (more with the shared intensity).
    both = share(records, is_set("meansThreats") & is_set("meansAbusePsyPhySex"))
    lift = both / (
        share(records, is_set("meansThreats")) * share(records, is_set("meansAbusePsyPhySex"))
    )
    assert lift > 1.5


def test_citizenship_is_skewed_with_a_long_tail(records):
    counts = records.filter(pl.col("citizenship") != "")["citizenship"].value_counts()
    top5 = counts["count"].top_k(5).sum() / N
    assert top5 > 0.4  # model: ~0.50 (PHL, UKR, IDN, USA, MDA)
    assert counts.height >= 100  # 26 big and middle countries + 80 rare ones
    # Each of the 80 rare countries expects 7 to 140 rows, all below 0.1% of 250,000.
    rare = counts.filter(pl.col("count") < N // 1000)
    assert rare.height >= 50


def test_domestic_trafficking_is_common(records):
    known = records.filter((pl.col("citizenship") != "") & (pl.col("CountryOfExploitation") != ""))
    assert share(known, pl.col("citizenship") == pl.col("CountryOfExploitation")) > 0.2  # ~0.33
    usa = known.filter(pl.col("citizenship") == "USA")
    assert share(usa, pl.col("CountryOfExploitation") == "USA") > 0.9  # model: 0.97


def test_recent_years_are_more_frequent(records):
    years = records["yearOfRegistration"].cast(pl.Int32)
    assert (years == 2024).sum() > 5 * (years == 2002).sum()  # model: ~11x
    assert (years >= 2015).mean() > 0.6  # model: ~0.72


def test_case_management_dominates(records):
    assert share(records, pl.col("dataSource") == "Case Management") > 0.75  # model: ~0.86


# --- bad arguments -------------------------------------------------------------------


@pytest.mark.parametrize("rows", [0, -5, 2.5, True, "100", None])
def test_bad_rows_raise_parameter_error(rows):
    with pytest.raises(ParameterError, match=r"rows must be a whole number of at least 1"):
        generate_demo_records(rows)


@pytest.mark.parametrize("seed", [-1, 1.5, "0"])
def test_bad_seed_raises_parameter_error(seed):
    with pytest.raises(ParameterError, match=r"seed must be a whole number"):
        generate_demo_records(10, seed=seed)
