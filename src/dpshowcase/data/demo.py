"""Bundled demo data: simulated counter-trafficking case records.

What: :func:`generate_demo_records` returns a table shaped like the IOM/CTDC Global
Synthetic Dataset: one row per identified survivor, a few categorical columns (year,
gender, age band, citizenship, country of exploitation, duration) and many mostly-empty
yes/no flags (type of exploitation, type of labour or sexual exploitation, means of
control, relation to the recruiter). Every column is a string; an absent value is ``""``.

Why: the project has to run end to end (tests, examples, the demo command, benchmarks)
without downloading anything and without touching anyone's real records. This module is
the data that ships with the package instead of a download. The records are drawn from
hand-written distributions chosen to have what makes the real problem hard: strong skew,
a long tail of rare citizenships, heavy missingness and correlated flags (sexual
exploitation mostly of women, forced labour mostly of men, labour types only with forced
labour). The numbers are plausible, not faithful; they describe nobody and must never be
read as facts about trafficking.

This is simulation, not privacy noise, so numpy's generator is the right tool here; the
generation is vectorised over rows and deterministic for a given seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, NamedTuple

import numpy as np
import polars as pl

from dpshowcase.errors import ParameterError

__all__ = ["DEMO_COLUMNS", "generate_demo_records"]

LABOUR_TYPE_COLUMNS: Final[tuple[str, ...]] = (
    "typeOfLabourAgriculture",
    "typeOfLabourConstruction",
    "typeOfLabourDomesticWork",
    "typeOfLabourFishing",
    "typeOfLabourHospitality",
    "typeOfLabourManufacturing",
    "typeOfLabourOther",
)
SEX_TYPE_COLUMNS: Final[tuple[str, ...]] = (
    "typeOfSexProstitution",
    "typeOfSexPornography",
    "typeOfSexRemoteInteractiveServices",
    "typeOfSexPrivateSexualServices",
)
MEANS_COLUMNS: Final[tuple[str, ...]] = (
    "meansDebtBondageEarnings",
    "meansThreats",
    "meansAbusePsyPhySex",
    "meansFalsePromises",
    "meansDrugsAlcohol",
    "meansDenyBasicNeeds",
    "meansExcessiveWorkHours",
    "meansWithholdDocs",
)
RECRUITER_COLUMNS: Final[tuple[str, ...]] = (
    "recruiterRelationIntimatePartner",
    "recruiterRelationFriend",
    "recruiterRelationFamily",
    "recruiterRelationOther",
)

DEMO_COLUMNS: Final[tuple[str, ...]] = (
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "majorityStatus",
    "citizenship",
    "CountryOfExploitation",
    "traffickMonths",
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    *LABOUR_TYPE_COLUMNS,
    *SEX_TYPE_COLUMNS,
    *MEANS_COLUMNS,
    *RECRUITER_COLUMNS,
    "isAbduction",
    "dataSource",
)

_FLAG_VALUES: Final = ("", "1")

# --- year and source ------------------------------------------------------------------
_FIRST_YEAR: Final = 2002
_LAST_YEAR: Final = 2024
_YEAR_GROWTH: Final = 0.11  # registrations grow ~12% a year ...
_YEAR_DIPS: Final[Mapping[int, float]] = {2020: 0.7, 2021: 0.85}  # ... except in the pandemic

_DATA_SOURCES: Final = ("Case Management", "Hotline")
_HOTLINE_FROM_YEAR: Final = 2008
_P_HOTLINE: Final = (0.03, 0.15)  # before, from _HOTLINE_FROM_YEAR

# --- gender and age --------------------------------------------------------------------
_GENDERS: Final = ("Female", "Male", "")  # index 2 = absent
_P_GENDER_EMPTY: Final = 0.03

_AGE_BANDS: Final = (
    "0--8",
    "9--17",
    "18--20",
    "21--23",
    "24--26",
    "27--29",
    "30--38",
    "39--47",
    "48+",
)
_MINOR_BANDS: Final = 2  # the first two bands are children
_P_AGE_EMPTY: Final = 0.15
_AGE_BY_GENDER: Final = np.array(  # rows: Female, Male, absent
    [
        [3, 17, 12, 12, 11, 9, 20, 11, 5],
        [3, 10, 8, 10, 11, 11, 24, 15, 8],
        [3, 13, 10, 11, 11, 10, 22, 13, 7],
    ],
    dtype=np.float64,
)
_MAJORITY: Final = ("Adult", "Minor", "")
_P_MAJORITY_WITHOUT_AGE: Final = (0.34, 0.06, 0.60)  # Adult, Minor, absent when age is absent

# --- countries -------------------------------------------------------------------------


class _Origin(NamedTuple):
    code: str
    weight: float  # relative share among the big and middle countries
    female: float  # P(Female | gender known)
    domestic: float  # P(exploited in the country of citizenship)
    destinations: str  # foreign destinations with relative weights, "CODE:weight ..."


_ORIGINS: Final[tuple[_Origin, ...]] = (
    _Origin("PHL", 15.0, 0.62, 0.20, "SAU:30 ARE:25 MYS:20 KWT:10 QAT:5 HKG:10"),
    _Origin("UKR", 10.0, 0.50, 0.25, "RUS:40 POL:25 TUR:10 DEU:10 ISR:5 CZE:10"),
    _Origin("IDN", 8.5, 0.75, 0.30, "MYS:50 SAU:20 ARE:10 SGP:10 HKG:10"),
    _Origin("USA", 8.0, 0.80, 0.97, "MEX:100"),
    _Origin("MDA", 7.0, 0.60, 0.10, "RUS:40 TUR:25 ARE:10 ITA:10 CYP:5 ROU:10"),
    _Origin("BLR", 5.0, 0.55, 0.15, "RUS:70 POL:15 DEU:5 TUR:10"),
    _Origin("KHM", 5.0, 0.30, 0.20, "THA:60 MYS:20 CHN:10 IDN:10"),
    _Origin("MMR", 4.5, 0.40, 0.20, "THA:60 CHN:30 MYS:10"),
    _Origin("NGA", 4.0, 0.85, 0.30, "ITA:30 LBY:20 ESP:10 GBR:10 DEU:10 MLI:10 GHA:10"),
    _Origin("ROU", 3.0, 0.60, 0.40, "GBR:30 ITA:20 ESP:20 DEU:20 NLD:10"),
    _Origin("VNM", 2.5, 0.45, 0.30, "GBR:30 CHN:30 MYS:20 KOR:20"),
    _Origin("THA", 2.0, 0.45, 0.70, "MYS:40 JPN:30 KOR:30"),
    _Origin("BGD", 2.0, 0.35, 0.30, "IND:40 MYS:30 SAU:30"),
    _Origin("NPL", 1.6, 0.55, 0.30, "IND:60 MYS:20 QAT:20"),
    _Origin("HTI", 1.5, 0.50, 0.30, "DOM:80 USA:20"),
    _Origin("ETH", 1.5, 0.75, 0.25, "SAU:50 LBN:20 ARE:20 KWT:10"),
    _Origin("UZB", 1.2, 0.35, 0.30, "RUS:60 KAZ:40"),
    _Origin("KEN", 1.1, 0.65, 0.40, "SAU:40 ARE:30 QAT:30"),
    _Origin("GHA", 1.0, 0.50, 0.60, "NGA:30 CIV:30 LBN:20 KWT:20"),
    _Origin("MEX", 1.0, 0.50, 0.60, "USA:100"),
    _Origin("IND", 0.9, 0.40, 0.80, "ARE:40 SAU:30 MYS:30"),
    _Origin("COL", 0.8, 0.70, 0.60, "ECU:30 ESP:30 MEX:20 CHN:20"),
    _Origin("CHN", 0.8, 0.55, 0.50, "MYS:30 USA:30 FRA:20 KHM:20"),
    _Origin("PAK", 0.6, 0.30, 0.40, "ARE:40 SAU:40 GBR:20"),
    _Origin("LKA", 0.5, 0.55, 0.30, "SAU:40 ARE:30 KWT:30"),
    _Origin("SEN", 0.5, 0.40, 0.40, "MLI:40 ESP:30 FRA:30"),
)

# The long tail: countries with a handful of cases each (weights fall geometrically
# from 1 to 1/20 along this list: in 250,000 rows the commonest has ~140 cases, the
# rarest ~7, and every one of them stays below 0.1% of rows).
_RARE_ORIGINS: Final[tuple[str, ...]] = (
    "AFG", "ALB", "DZA", "AGO", "ARG", "ARM", "AZE", "BEN", "BOL", "BIH",
    "BRA", "BFA", "BDI", "CMR", "CAF", "TCD", "CHL", "COD", "COG", "CRI",
    "CIV", "CUB", "DJI", "DOM", "ECU", "EGY", "SLV", "ERI", "FJI", "GAB",
    "GMB", "GEO", "GTM", "GIN", "GNB", "GUY", "HND", "IRN", "IRQ", "JAM",
    "JOR", "KAZ", "KGZ", "LAO", "LBN", "LBR", "LBY", "MDG", "MWI", "MLI",
    "MRT", "MNG", "MNE", "MAR", "MOZ", "NAM", "NIC", "NER", "MKD", "PAN",
    "PNG", "PRY", "PER", "RWA", "SLE", "SOM", "ZAF", "SSD", "SDN", "SUR",
    "SYR", "TJK", "TZA", "TGO", "TTO", "TUN", "TKM", "UGA", "VEN", "ZWE",
)  # fmt: skip
_RARE_SHARE: Final = 0.015  # of rows with a known citizenship
_RARE_WEIGHT_RANGE: Final = 20.0  # most common rare country / rarest rare country
_RARE_FEMALE: Final = 0.55
_RARE_DOMESTIC: Final = 0.45
_GENERIC_DESTINATIONS: Final = "RUS:15 TUR:15 ARE:15 SAU:10 USA:10 DEU:10 GBR:10 ITA:5 THA:5 MYS:5"
_P_CITIZENSHIP_EMPTY: Final = 0.05
_P_DESTINATION_EMPTY: Final = 0.065  # when citizenship is known
_P_DESTINATION_EMPTY_NO_CITIZENSHIP: Final = 0.35

# --- duration --------------------------------------------------------------------------
_DURATIONS: Final = ("0--12 (0-1 yr)", "13--24 (1-2 yrs)", "25+ (2+ yrs)")
_P_DURATION_RECORDED: Final = (0.32, 0.18)  # Case Management, Hotline
_DURATION_BY_LABOUR: Final = np.array([[60, 25, 15], [45, 30, 25]], dtype=np.float64)

# --- type of exploitation ----------------------------------------------------------------
# Outcomes: (forced labour, sexual, other) flags for each of 7 combinations.
_EXPLOIT_OUTCOMES: Final = np.array(
    [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1], [0, 0, 0]],
    dtype=np.bool_,
)
# Rows: gender (Female, Male, absent) x majority (Adult, Minor, absent), index 3*g + m.
_EXPLOIT_BY_GENDER_AGE: Final = np.array(
    [
        [33, 50, 6, 4, 1, 1, 5],  # Female adult
        [20, 55, 15, 3, 1, 2, 4],  # Female minor
        [31, 50, 8, 4, 1, 1, 5],  # Female, age unknown
        [83, 4, 6, 1, 1, 0, 5],  # Male adult
        [55, 12, 25, 1, 2, 0, 5],  # Male minor
        [80, 5, 8, 1, 1, 0, 5],  # Male, age unknown
        [45, 25, 8, 2, 1, 1, 18],  # gender unknown, adult
        [35, 30, 15, 2, 1, 1, 16],  # gender unknown, minor
        [45, 25, 8, 2, 1, 1, 18],  # gender unknown, age unknown
    ],
    dtype=np.float64,
)

# Labour types (given forced labour), index 0 = not recorded, then LABOUR_TYPE_COLUMNS.
_LABOUR_BY_GENDER: Final = np.array(
    [
        [30, 7, 1, 38, 0.5, 6, 7, 10.5],  # Female
        [30, 18, 20, 4, 8, 4, 8, 8],  # Male
        [35, 12, 10, 20, 4, 5, 7, 7],  # absent
    ],
    dtype=np.float64,
)
_P_SECOND_LABOUR: Final = 0.12

# Sexual exploitation types (given sexual exploitation), index 0 = not recorded.
_SEX_BY_MAJORITY: Final = np.array(
    [
        [25, 62, 6, 3, 4],  # Adult
        [25, 52, 12, 7, 4],  # Minor
        [30, 58, 5, 3, 4],  # absent
    ],
    dtype=np.float64,
)
_P_SECOND_SEX: Final = 0.10

# --- means of control ----------------------------------------------------------------------
# A shared gate (were means recorded at all?) and a shared intensity make the flags
# co-occur, as they do in case files where one interviewer records several at once.
_P_MEANS_RECORDED: Final = (0.40, 0.20)  # Case Management, Hotline
_MEANS_BASE: Final = np.array([0.35, 0.45, 0.40, 0.40, 0.08, 0.25, 0.30, 0.30])
_MEANS_IF_LABOUR: Final = np.array([1.5, 1.0, 0.8, 1.1, 0.6, 1.2, 1.6, 1.5])
_MEANS_IF_SEXUAL: Final = np.array([1.0, 1.2, 1.4, 1.0, 2.5, 1.0, 0.8, 1.0])

# --- recruiter ---------------------------------------------------------------------------
_P_RECRUITER_RECORDED: Final = (0.27, 0.12)  # Case Management, Hotline
_RECRUITER_BY_PROFILE: Final = np.array(
    [
        [20, 35, 15, 30],  # woman or girl, sexual exploitation
        [3, 22, 45, 30],  # other minor
        [3, 40, 12, 45],  # everyone else
    ],
    dtype=np.float64,
)
_P_SECOND_RECRUITER: Final = 0.05
_P_ABDUCTION: Final = (0.015, 0.05, 0.015)  # Adult, Minor, absent


def _check_rows(rows: object) -> int:
    if isinstance(rows, bool) or not isinstance(rows, int | np.integer) or rows < 1:
        raise ParameterError(
            f"The number of demo rows must be a whole number of at least 1, not {rows!r}; "
            "ask for 1 or more rows."
        )
    return int(rows)


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(
            f"The demo seed must be a whole number of at least 0, not {seed!r}; "
            "pass a non-negative integer."
        )
    return int(seed)


def _normalise(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum(axis=-1, keepdims=True)


def _draw(rng: np.random.Generator, parent: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Draw one category per row from the distribution ``table[parent]``, vectorised.

    Each table row is turned into a cumulative distribution shifted by its row number,
    so one sorted array holds every row's distribution side by side, and a single
    ``searchsorted`` of ``parent + u`` finds each row's draw.
    """
    n_parents, n_children = table.shape
    cdf = np.cumsum(_normalise(np.asarray(table, dtype=np.float64)), axis=1)
    cdf[:, -1] = 1.0
    shifted = (cdf + np.arange(n_parents, dtype=np.float64)[:, None]).ravel()
    # Shrink u a little below 1 so that parent + u can never round up to parent + 1.
    u = rng.random(parent.shape[0]) * (1.0 - 2.0**-40)
    position = np.searchsorted(shifted, parent + u, side="right")
    return position - parent * n_children


def _bernoulli(rng: np.random.Generator, p: np.ndarray | float, size: int) -> np.ndarray:
    return rng.random(size) < p


def _series(name: str, labels: Sequence[str], index: np.ndarray) -> pl.Series:
    """A string column holding ``labels[i]`` for each ``i`` in ``index``."""
    return pl.Series(name, list(labels), dtype=pl.String).gather(index.astype(np.uint32))


def _flag(name: str, mask: np.ndarray) -> pl.Series:
    return _series(name, _FLAG_VALUES, mask)


def _weights(spec: str) -> dict[str, float]:
    """Parse ``"CODE:weight CODE:weight ..."`` into a mapping."""
    return {code: float(weight) for code, weight in (item.split(":") for item in spec.split())}


def _years(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Registration years as offsets from ``_FIRST_YEAR``; recent years are more frequent."""
    offsets = np.arange(_LAST_YEAR - _FIRST_YEAR + 1)
    weights = np.exp(_YEAR_GROWTH * offsets)
    for year, factor in _YEAR_DIPS.items():
        weights[year - _FIRST_YEAR] *= factor
    return rng.choice(offsets.shape[0], size=rows, p=_normalise(weights))


def _countries() -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]:
    """Country codes, citizenship weights, female shares and the destination table.

    Citizenships are the first ``len(weights)`` codes; the rest appear only as
    destinations. The destination table has one row per citizenship plus a last row for
    an absent citizenship; its columns are every code and a last one for absent.
    """
    rare_weights = _RARE_WEIGHT_RANGE ** -np.linspace(0.0, 1.0, len(_RARE_ORIGINS))
    rare_weights *= _RARE_SHARE / rare_weights.sum()
    major_weights = np.array([o.weight for o in _ORIGINS])
    major_weights *= (1.0 - _RARE_SHARE) / major_weights.sum()

    origins = tuple(o.code for o in _ORIGINS) + _RARE_ORIGINS
    extra = {
        code
        for spec in (*(o.destinations for o in _ORIGINS), _GENERIC_DESTINATIONS)
        for code in _weights(spec)
    }
    codes = origins + tuple(sorted(extra - set(origins)))
    column = {code: i for i, code in enumerate(codes)}

    n_codes = len(codes)
    destination = np.zeros((len(origins) + 1, n_codes + 1))
    generic = np.zeros(n_codes)
    for code, weight in _weights(_GENERIC_DESTINATIONS).items():
        generic[column[code]] = weight
    generic /= generic.sum()
    for row, code in enumerate(origins):
        if row < len(_ORIGINS):
            origin = _ORIGINS[row]
            domestic = origin.domestic
            foreign = np.zeros(n_codes)
            for dest, weight in _weights(origin.destinations).items():
                foreign[column[dest]] = weight
            foreign /= foreign.sum()
        else:
            domestic, foreign = _RARE_DOMESTIC, generic
        known = 1.0 - _P_DESTINATION_EMPTY
        destination[row, :n_codes] = known * (1.0 - domestic) * foreign
        destination[row, column[code]] += known * domestic
        destination[row, n_codes] = _P_DESTINATION_EMPTY
    destination[-1, :n_codes] = (1.0 - _P_DESTINATION_EMPTY_NO_CITIZENSHIP) * generic
    destination[-1, n_codes] = _P_DESTINATION_EMPTY_NO_CITIZENSHIP

    weights = np.concatenate([major_weights, rare_weights])
    female = np.array([o.female for o in _ORIGINS] + [_RARE_FEMALE] * len(_RARE_ORIGINS))
    return codes, weights, female, destination


def _people(
    rng: np.random.Generator, rows: int
) -> tuple[list[pl.Series], np.ndarray, np.ndarray, np.ndarray]:
    """Who was identified and where: returns columns, gender, majority and source indexes."""
    years = _years(rng, rows)
    from_hotline_year = years >= _HOTLINE_FROM_YEAR - _FIRST_YEAR
    p_hotline = np.where(from_hotline_year, _P_HOTLINE[1], _P_HOTLINE[0])
    source = _bernoulli(rng, p_hotline, rows).astype(np.int64)

    codes, weights, female, destination = _countries()
    n_origins = weights.shape[0]
    citizenship = rng.choice(n_origins, size=rows, p=weights)
    citizenship[_bernoulli(rng, _P_CITIZENSHIP_EMPTY, rows)] = n_origins
    exploited_in = _draw(rng, citizenship, destination)

    p_female = np.append(female, _RARE_FEMALE)[citizenship]
    gender = np.where(_bernoulli(rng, p_female, rows), 0, 1)
    gender[_bernoulli(rng, _P_GENDER_EMPTY, rows)] = 2

    age = _draw(rng, gender, _AGE_BY_GENDER)
    age_known = ~_bernoulli(rng, _P_AGE_EMPTY, rows)
    majority_without_age = rng.choice(3, size=rows, p=_P_MAJORITY_WITHOUT_AGE)
    majority = np.where(age_known, (age < _MINOR_BANDS).astype(np.int64), majority_without_age)
    age = np.where(age_known, age, len(_AGE_BANDS))

    year_labels = [str(year) for year in range(_FIRST_YEAR, _LAST_YEAR + 1)]
    columns = [
        _series("yearOfRegistration", year_labels, years),
        _series("gender", _GENDERS, gender),
        _series("ageBroad", (*_AGE_BANDS, ""), age),
        _series("majorityStatus", _MAJORITY, majority),
        _series("citizenship", (*codes[:n_origins], ""), citizenship),
        _series("CountryOfExploitation", (*codes, ""), exploited_in),
    ]
    return columns, gender, majority, source


def _exploitation(
    rng: np.random.Generator, gender: np.ndarray, majority: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    outcome = _draw(rng, 3 * gender + majority, _EXPLOIT_BY_GENDER_AGE)
    flags = _EXPLOIT_OUTCOMES[outcome]
    return flags[:, 0], flags[:, 1], flags[:, 2]


def _subtypes(
    rng: np.random.Generator,
    parent: np.ndarray,
    table: np.ndarray,
    applies: np.ndarray,
    p_second: float,
) -> np.ndarray:
    """Subtype flags (rows x types) set only where ``applies``; index 0 of table = none."""
    rows, n_types = parent.shape[0], table.shape[1] - 1
    first = _draw(rng, parent, table)
    second = _draw(rng, parent, table)
    has_second = (first > 0) & (second > 0) & _bernoulli(rng, p_second, rows)
    flags = np.zeros((rows, n_types + 1), dtype=np.bool_)
    flags[np.arange(rows), first] = True
    flags[np.arange(rows)[has_second], second[has_second]] = True
    return flags[:, 1:] & applies[:, None]


def _means(
    rng: np.random.Generator, source: np.ndarray, labour: np.ndarray, sexual: np.ndarray
) -> np.ndarray:
    rows = source.shape[0]
    recorded = _bernoulli(rng, np.asarray(_P_MEANS_RECORDED)[source], rows)
    # One row of probabilities per (forced labour, sexual exploitation) combination.
    by_type = np.stack(
        [
            _MEANS_BASE,
            _MEANS_BASE * _MEANS_IF_SEXUAL,
            _MEANS_BASE * _MEANS_IF_LABOUR,
            _MEANS_BASE * _MEANS_IF_LABOUR * _MEANS_IF_SEXUAL,
        ]
    ).astype(np.float32)
    p = by_type[2 * labour.astype(np.intp) + sexual]
    p *= 0.5 + rng.random((rows, 1), dtype=np.float32)  # shared intensity: correlation
    return recorded[:, None] & (rng.random(p.shape, dtype=np.float32) < p)


def _recruiter(rng: np.random.Generator, source: np.ndarray, profile: np.ndarray) -> np.ndarray:
    rows = source.shape[0]
    recorded = _bernoulli(rng, np.asarray(_P_RECRUITER_RECORDED)[source], rows)
    table = np.hstack([np.zeros((3, 1)), _RECRUITER_BY_PROFILE])  # index 0 never drawn
    return _subtypes(rng, profile, table, recorded, _P_SECOND_RECRUITER)


def generate_demo_records(rows: int = 250_000, seed: int = 0) -> pl.DataFrame:
    """Simulated survivor case records, one row per person, every column a string.

    The columns are :data:`DEMO_COLUMNS`; an absent value (or a flag that is not set) is
    the empty string, never null. The same ``rows`` and ``seed`` give the same table.

    Raises:
        ParameterError: ``rows`` is not a whole number of at least 1, or ``seed`` is not
            a non-negative whole number.
    """
    rows = _check_rows(rows)
    rng = np.random.default_rng(_check_seed(seed))

    columns, gender, majority, source = _people(rng, rows)
    labour, sexual, other = _exploitation(rng, gender, majority)

    duration = _draw(rng, labour.astype(np.int64), _DURATION_BY_LABOUR)
    recorded = _bernoulli(rng, np.asarray(_P_DURATION_RECORDED)[source], rows)
    duration = np.where(recorded, duration, len(_DURATIONS))
    columns.append(_series("traffickMonths", (*_DURATIONS, ""), duration))
    columns += [
        _flag("isForcedLabour", labour),
        _flag("isSexualExploit", sexual),
        _flag("isOtherExploit", other),
    ]

    labour_types = _subtypes(rng, gender, _LABOUR_BY_GENDER, labour, _P_SECOND_LABOUR)
    sex_types = _subtypes(rng, majority, _SEX_BY_MAJORITY, sexual, _P_SECOND_SEX)
    means = _means(rng, source, labour, sexual)
    minor = majority == 1
    profile = np.where(sexual & (gender == 0), 0, np.where(minor, 1, 2))
    recruiter = _recruiter(rng, source, profile)
    abduction = _bernoulli(rng, np.asarray(_P_ABDUCTION)[majority], rows)

    for names, flags in (
        (LABOUR_TYPE_COLUMNS, labour_types),
        (SEX_TYPE_COLUMNS, sex_types),
        (MEANS_COLUMNS, means),
        (RECRUITER_COLUMNS, recruiter),
    ):
        columns += [_flag(name, flags[:, i]) for i, name in enumerate(names)]
    columns += [_flag("isAbduction", abduction), _series("dataSource", _DATA_SOURCES, source)]
    return pl.DataFrame(columns).select(DEMO_COLUMNS)
