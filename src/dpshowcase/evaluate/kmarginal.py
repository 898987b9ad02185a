"""The NIST CRC k-marginal score: how closely a deidentified table keeps the target's
low-order marginal distributions, on a 0–1000 scale.

The score is the headline utility metric of NIST's SDNist deidentified-data report
(v2.3, the version behind the NIST Collaborative Research Cycle (CRC) data and metric
bundle) and the 2020 NIST Differential Privacy Temporal Map Challenge. It asks: if you
tabulate the data by every small combination of columns, how far apart are the two
tables of relative frequencies?

Definition (reproduces SDNist v2.3's published figures exactly; see the tests)
------------------------------------------------------------------------------
Let ``T`` be the target data with ``N`` rows and ``D`` the deidentified data with ``M``
rows. A *marginal* is a set of columns; its cells are the value combinations that occur
in either table, with relative frequencies ``t(c) = count_T(c) / N`` and
``d(c) = count_D(c) / M``. Its total-variation-style distance is
``TVD = Σ_c |t(c) − d(c)|``, which lies in ``[0, 2]``.

* Without a group column the marginals are all ``k``-subsets of the feature columns,
  and the score is ``(2 − mean TVD) × 500``: 1000 means every marginal distribution
  is identical, 0 means every marginal has disjoint support.
* With a group column ``g`` (SDNist: ``PUMA``) every marginal is ``g`` plus a
  ``(k − 1)``-subset of the other columns, so the default ``k = 3`` gives SDNist's
  PUMA × feature-pair marginals. The **overall** score is the same formula,
  ``(2 − mean TVD) × 500``, over these marginals on the whole data. The **per-group**
  score of a group value ``a`` with ``N_a`` target rows uses, for each marginal, the
  cells inside ``a`` only, with the *whole-table* densities above:
  ``e_a = min(Σ_{c ∈ a} |t(c) − d(c)|, N_a / N) × N / N_a`` (in ``[0, 1]``), and
  scores ``(1 − mean e_a) × 1000``. Because ``d`` is normalised by all of ``M``, a
  group that is too small or too large in the deidentified data is penalised, not
  only one whose internal mix is wrong.

SDNist reports scores truncated to integers (Python ``int()``), not rounded:
``overall_sdnist`` and ``per_group_sdnist`` give those figures.

How SDNist feeds the function, for callers who want its exact figures: the feature
columns exclude ``INDP`` (too many values; ``INDP_CAT`` stands in for it), numeric
columns (``AGEP``, ``PINCP``, ``POVPIP``, weights) are first cut into 20 percentile
bins of the target with ``N`` (not applicable) as a bin of its own, and ``DENSITY``
into log-scale bins. This function compares values as given and does not bin;
missing values (nulls, or a code such as the ACS ``"N"``) are a category of their own.

Values are compared after one normalisation: every column is cast to text and an
integer written as a float (``"1.0"``, ``1.0``) becomes the integer (``"1"``), because
many synthesizers write categorical codes as floats while the target has integers.

References: NIST, *SDNist: Synthetic Data Report Tool*, v2.3 (2023),
https://github.com/usnistgov/SDNist (``sdnist/metrics/kmarginal.py``); NIST CRC Data
and Metrics Archive, https://github.com/usnistgov/privacy_collaborative_research_cycle.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from dpshowcase.errors import InputError, ParameterError, SchemaError

__all__ = ["NULL_GROUP_KEY", "KMarginalResult", "k_marginal_score"]

#: Key under which rows whose group value is missing (null) are reported in ``per_group``.
NULL_GROUP_KEY = "<null>"

_T_DENSITY = "__kmarg_t"
_D_DENSITY = "__kmarg_d"
_ABS_DIFF = "__kmarg_abs_diff"
_GROUP_KEY = "__kmarg_group"


@dataclass(frozen=True)
class KMarginalResult:
    """The k-marginal score of one deidentified table against its target.

    Attributes:
        overall: score over the whole data, 0–1000 (1000 = identical marginals), unrounded.
        per_group: score per target group value, 0–1000, unrounded; empty when no group
            column was given. Keys are the group values as text (a missing value is
            reported as ``NULL_GROUP_KEY``); only values present in the target appear.
        k: number of columns in each marginal, the group column included.
        columns: the feature columns the marginals were drawn from (group column excluded).
        group_column: the column every marginal was conditioned on, or ``None``.
        n_marginals: how many marginals were averaged.
    """

    overall: float
    per_group: dict[str, float] = field(default_factory=dict)
    k: int = 3
    columns: tuple[str, ...] = ()
    group_column: str | None = None
    n_marginals: int = 0

    @property
    def overall_sdnist(self) -> int:
        """The overall score as SDNist prints it: truncated to an integer."""
        return int(self.overall)

    @property
    def per_group_sdnist(self) -> dict[str, int]:
        """Per-group scores as SDNist prints them: truncated to integers."""
        return {key: int(value) for key, value in self.per_group.items()}


def k_marginal_score(
    target: pl.DataFrame,
    deidentified: pl.DataFrame,
    *,
    k: int = 3,
    columns: Sequence[str] | None = None,
    group_column: str | None = None,
) -> KMarginalResult:
    """Score how well ``deidentified`` keeps the ``k``-way marginals of ``target``.

    Args:
        target: the confidential data the deidentified table was made from.
        deidentified: the table to score; it may have any number of rows.
        k: columns per marginal, the group column included when one is given
            (SDNist: ``k=3`` with ``group_column="PUMA"``; ``k=2`` for feature sets
            without PUMA).
        columns: feature columns to draw marginals from; default every column of
            ``target`` except ``group_column``. Both tables must have them.
        group_column: a column included in every marginal, with a score per value
            (SDNist: ``"PUMA"``).

    Returns:
        The overall score and, with a group column, a score per target group value;
        see the module docstring for the exact formulas.

    Raises:
        ParameterError: ``k`` is below 1 or larger than the columns allow, or
            ``columns`` repeats a column or contains ``group_column``.
        SchemaError: a named column is missing from either table.
        InputError: either table has no rows.
    """
    features = _check_arguments(target, deidentified, k, columns, group_column)
    needed = ([group_column] if group_column is not None else []) + features
    t = _normalise(target.select(needed))
    d = _normalise(deidentified.select(needed))
    n_target, n_deid = t.height, d.height

    free = k - 1 if group_column is not None else k
    subsets = [list(s) for s in itertools.combinations(features, free)]

    total_tvd = 0.0
    group_errors: list[pl.DataFrame] = []
    for subset in subsets:
        keys = ([group_column] if group_column is not None else []) + subset
        cells = _cell_differences(t, d, keys, n_target, n_deid)
        total_tvd += float(cells.get_column(_ABS_DIFF).sum())
        if group_column is not None:
            group_errors.append(cells.group_by(group_column).agg(pl.col(_ABS_DIFF).sum()))

    n_marginals = len(subsets)
    overall = (2.0 - total_tvd / n_marginals) * 500.0

    per_group: dict[str, float] = {}
    if group_column is not None:
        per_group = _per_group_scores(t, group_column, group_errors, n_marginals)

    return KMarginalResult(
        overall=overall,
        per_group=per_group,
        k=k,
        columns=tuple(features),
        group_column=group_column,
        n_marginals=n_marginals,
    )


def _check_arguments(
    target: pl.DataFrame,
    deidentified: pl.DataFrame,
    k: int,
    columns: Sequence[str] | None,
    group_column: str | None,
) -> list[str]:
    """Validate the arguments and return the feature columns, in the order given."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ParameterError(
            f"k must be a whole number of at least 1 (columns per marginal), got {k!r}."
        )
    if isinstance(columns, str):
        raise ParameterError(
            f"columns must be a list of column names, not the single string {columns!r}."
        )
    if columns is None:
        features = [c for c in target.columns if c != group_column]
    else:
        features = list(columns)
        duplicates = sorted({c for c in features if features.count(c) > 1})
        if duplicates:
            raise ParameterError(f"columns names {', '.join(duplicates)} more than once.")
        if group_column is not None and group_column in features:
            raise ParameterError(
                f"group column {group_column!r} is also listed in columns; it is part of "
                "every marginal already, so leave it out of columns."
            )

    needed = ([group_column] if group_column is not None else []) + features
    for name, frame in (("target", target), ("deidentified", deidentified)):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise SchemaError(
                f"the {name} data has no column {', '.join(map(repr, missing))}; both "
                "tables need every column being scored."
            )
        if frame.height == 0:
            raise InputError(f"the {name} data has no rows; a k-marginal score needs data.")

    free = k - 1 if group_column is not None else k
    if free > len(features):
        with_group = f" plus the group column {group_column!r}" if group_column else ""
        raise ParameterError(
            f"k={k} needs {free} feature column(s) per marginal{with_group}, but only "
            f"{len(features)} feature column(s) are available; lower k."
        )
    return features


def _normalise(frame: pl.DataFrame) -> pl.DataFrame:
    """Cast every column to text and write integer-valued floats as integers.

    "1.0", "1.00" and 1.0 all become "1", so a synthesizer that writes categorical
    codes as floats is compared fairly with a target that has integers. Nulls stay null.
    """
    return frame.with_columns(
        pl.col(c).cast(pl.String).str.replace(r"^([+-]?\d+)\.0*$", "${1}") for c in frame.columns
    )


def _cell_differences(
    t: pl.DataFrame, d: pl.DataFrame, keys: list[str], n_target: int, n_deid: int
) -> pl.DataFrame:
    """Per cell of the marginal over ``keys``: |target density − deidentified density|.

    Cells found in only one table count with density 0 in the other; nulls are a
    value of their own and match each other.
    """
    t_cells = t.group_by(keys).agg((pl.len() / n_target).alias(_T_DENSITY))
    d_cells = d.group_by(keys).agg((pl.len() / n_deid).alias(_D_DENSITY))
    joined = t_cells.join(d_cells, on=keys, how="full", coalesce=True, nulls_equal=True)
    return joined.with_columns(
        (pl.col(_T_DENSITY).fill_null(0.0) - pl.col(_D_DENSITY).fill_null(0.0))
        .abs()
        .alias(_ABS_DIFF)
    )


def _per_group_scores(
    t: pl.DataFrame, group_column: str, group_errors: list[pl.DataFrame], n_marginals: int
) -> dict[str, float]:
    """SDNist's per-group score from the per-marginal, per-group sums of |t − d|.

    Each marginal's within-group sum is capped at the group's target share N_a/N and
    rescaled by N/N_a, giving an error in [0, 1]; the score is (1 − mean error) × 1000.
    Groups present only in the deidentified data are not scored (SDNist has no score
    for them either); their mass still lowers the overall score.
    """
    n_target = t.height
    sizes = t.group_by(group_column).agg(pl.len().alias("__kmarg_n"))
    errors = (
        pl.concat(group_errors)
        .join(sizes, on=group_column, how="inner", nulls_equal=True)
        .with_columns(
            (
                pl.min_horizontal(pl.col(_ABS_DIFF), pl.col("__kmarg_n") / n_target)
                * n_target
                / pl.col("__kmarg_n")
            ).alias(_ABS_DIFF)
        )
        .group_by(group_column)
        .agg((pl.col(_ABS_DIFF).sum() / n_marginals).alias("__kmarg_mean"))
        .with_columns(
            pl.col(group_column).fill_null(NULL_GROUP_KEY).alias(_GROUP_KEY),
            ((1.0 - pl.col("__kmarg_mean")) * 1000.0).alias("__kmarg_score"),
        )
        .sort(_GROUP_KEY)
    )
    return dict(
        zip(
            errors.get_column(_GROUP_KEY).to_list(),
            errors.get_column("__kmarg_score").to_list(),
            strict=True,
        )
    )
