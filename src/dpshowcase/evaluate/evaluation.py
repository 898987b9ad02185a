"""The whole evaluation of a release, as the plain data written to ``metrics.json``.

:func:`evaluate_release` computes every metric that the available sources allow:

| metric (key in metrics.json)            | needs                         |
|-----------------------------------------|-------------------------------|
| ``combinations.protected_vs_synthetic`` | protected counts, synthetic   |
| ``comparability``                       | protected counts, synthetic   |
| ``distributions``, ``coverage``         | any source                    |
| ``combinations.sensitive_vs_protected`` | sensitive, protected counts   |
| ``combinations.sensitive_vs_synthetic`` | sensitive, synthetic          |
| ``fidelity`` (marginal TVD, k-marginal, propensity) | sensitive, synthetic |
| ``privacy`` (matches, distance to closest record)   | sensitive, synthetic |
| ``privacy.membership_audit``            | sensitive and a holdout, or a DP release to re-run |

Without sensitive data (``sensitive=None``) the result is public: it is computed from
the release alone and may be published with it (it is what every bundle carries).
With sensitive data it is **not** public: it describes the sensitive records.

Every key of the result is documented in :data:`METRICS_KEYS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from dpshowcase._io.timestamps import created_utc
from dpshowcase._version import __version__
from dpshowcase.data.attributes import natural_key
from dpshowcase.data.encode import SensitiveData, encode
from dpshowcase.evaluate import _space
from dpshowcase.evaluate.comparability import TOLERANCE, agree, largest_disagreements
from dpshowcase.evaluate.coverage import (
    COUNTRY_OF_EXPLOITATION,
    DATA_SOURCE,
    column_coverage,
    single_counts,
)
from dpshowcase.evaluate.disclosure import distance_to_closest, match_risk
from dpshowcase.evaluate.marginals import marginal_fidelity
from dpshowcase.evaluate.membership import membership_audit, rerelease_audit_data
from dpshowcase.evaluate.preservation import compare_counts
from dpshowcase.evaluate.propensity import propensity_score
from dpshowcase.evaluate.release_files import PublicRelease
from dpshowcase.evaluate.report import world_ids
from dpshowcase.schema.model import ColumnKind

__all__ = ["METRICS_KEYS", "METRICS_VERSION", "evaluate_release"]

METRICS_VERSION = 1
DEFAULT_RESOLUTION = 10
"""Resolution for "rare" combinations when the release has none (DP releases)."""
TOP_DISAGREEMENTS = 25
MAX_VALUES_PER_COLUMN = 40
"""Values shown per column in ``distributions`` (the most frequent ones)."""

METRICS_KEYS: dict[str, str] = {
    "metrics_version": "version of this layout (changes when keys change meaning)",
    "tool": "dpshowcase and its version",
    "created": "UTC time of the evaluation",
    "public": "true when computed from the release alone (no sensitive data): publishable",
    "inputs": "which sources were available: sensitive, protected, synthetic, holdout",
    "release": "guarantee, mode, not_for_release, parameters (parameters.json), columns",
    "sizes": "sensitive_records, synthetic_records, protected_record_count, record_expansion "
    "(synthetic rows / sensitive records, or / protected record count without sensitive)",
    "resolution": "counts below this are rare (k of a k-anonymous release, else 10)",
    "combinations": "per compared pair (sensitive_vs_protected, sensitive_vs_synthetic, "
    "protected_vs_synthetic): by_length (preservation, fabricated, suppressed, "
    "rare_in_output, mean counts, count_ratio, mean_proportional_error), by_bucket, "
    "preservation, combination_loss; see dpshowcase.evaluate.preservation",
    "comparability": "tolerance, agreement_by_length {k: released, agrees, share}, "
    "largest_disagreements [combination, length, protected, synthetic, difference, ratio]",
    "distributions": "per column: values and the count of each in every source",
    "coverage": "columns (country of exploitation, data source): counts per value per "
    "source; suppression: per column, suppressed values and records, unreleased records",
    "map_columns": "columns holding ISO-3 country codes (drawn on the world map)",
    "fidelity": "marginals (mean_tvd / max_tvd per order 1-3, k_marginal_score 0-1000, "
    "worst marginals), propensity (pmse, pmse_normalised, auc)",
    "privacy": "matches (exact, unique, sensitive uniques matched), distance_to_closest "
    "(histograms, medians, closer_than_baseline), membership_audit (tpr/fpr per "
    "threshold, advantage, epsilon_lower_bound vs epsilon, consistent) or a note why not",
    "notes": "plain sentences on what could not be computed and why",
    "timings": "seconds per step",
}
"""Every top-level key of metrics.json and what it holds."""


def evaluate_release(
    release: PublicRelease,
    *,
    sensitive: pl.DataFrame | None = None,
    holdout: pl.DataFrame | None = None,
    audit: bool = True,
    resolution: int | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    timed: bool = True,
) -> dict[str, Any]:
    """Every metric the sources allow, as JSON-ready data (see :data:`METRICS_KEYS`).

    Args:
        release: the public release (see :func:`~.release_files.load_release`).
        sensitive: the sensitive records the release was made from (a DataFrame read
            with :func:`~dpshowcase.data.load.read_table`), or None for a public
            evaluation.
        holdout: records of the same population that were *not* used for the release;
            with them the membership audit attacks the release itself.
        audit: without a holdout, audit a DP release by re-running its mechanism on
            a random half of a sample of ``sensitive`` (see :mod:`.membership`).
        resolution: counts below it are "rare" (default: the release's k, else 10).
        seed: seed of the samples drawn by the metrics (not of any privacy noise).
        progress: called with the name of each step as it starts.
        timed: state the seconds each step took; off for the report inside a bundle,
            whose files depend on nothing but data, parameters and seed.
    """
    if not isinstance(release, PublicRelease):
        raise TypeError(
            "evaluate_release reads a public release (load_release), not "
            f"{type(release).__name__}."
        )
    notify = progress or (lambda _step: None)
    timings: dict[str, float] = {}
    notes: list[str] = []
    schema = release.schema
    r = release.reporting_length
    params = release.parameters
    if resolution is None:
        k = params.get("resolution")
        resolution = int(k) if isinstance(k, int) and k > 0 else DEFAULT_RESOLUTION

    clock = _Clock(timings, notify)
    with clock("encoding"):
        syn_data = (
            _space.encode_released(release.synthetic, schema)
            if release.synthetic is not None
            else None
        )
        sens_data = (
            encode(sensitive, schema, allow_identifiers=True) if sensitive is not None else None
        )
    with clock("counting"):
        syn_counts = _space.count_table(syn_data, r) if syn_data is not None else None
        sens_counts = _space.count_table(sens_data, r) if sens_data is not None else None
    protected = release.protected

    metrics: dict[str, Any] = {
        "metrics_version": METRICS_VERSION,
        "tool": f"dpshowcase {__version__}",
        "created": created_utc(),
        "public": sensitive is None,
        "inputs": {
            "sensitive": sensitive is not None,
            "protected": protected is not None,
            "synthetic": release.synthetic is not None,
            "holdout": holdout is not None,
        },
        "release": {
            "source": release.source,
            "guarantee": params.get("guarantee", ""),
            "mode": params.get("mode", ""),
            "not_for_release": bool(params.get("not_for_release", False)),
            "reporting_length": r,
            "columns": list(schema.column_names),
            "parameters": params,
        },
        "resolution": resolution,
    }
    n_syn = syn_data.n_records if syn_data is not None else None
    n_sens = sens_data.n_records if sens_data is not None else None
    base = n_sens if n_sens else release.record_count
    metrics["sizes"] = {
        "sensitive_records": n_sens,
        "synthetic_records": n_syn,
        "protected_record_count": release.record_count,
        "record_expansion": (n_syn / base) if (n_syn is not None and base) else None,
    }

    with clock("combinations"):
        pairs = {
            "sensitive_vs_protected": (sens_counts, protected),
            "sensitive_vs_synthetic": (sens_counts, syn_counts),
            "protected_vs_synthetic": (protected, syn_counts),
        }
        combinations = {}
        for key, (ref, out) in pairs.items():
            if ref is None or out is None:
                continue
            ref_name, out_name = key.split("_vs_")
            combinations[key] = compare_counts(
                ref,
                out,
                resolution=resolution,
                reference_name=ref_name,
                output_name=out_name,
                max_length=r,
            ).to_dict()
        metrics["combinations"] = combinations

    with clock("comparability"):
        metrics["comparability"] = (
            _comparability(protected, syn_counts)
            if protected is not None and syn_counts is not None
            else None
        )

    with clock("distributions and coverage"):
        singles = {
            name: single_counts(table)
            for name, table in (
                ("sensitive", sens_counts),
                ("protected", protected),
                ("synthetic", syn_counts),
            )
            if table is not None
        }
        metrics["distributions"] = _distributions(schema.column_names, singles)
        metrics["coverage"] = _coverage(schema, singles, release.record_count, params)
        metrics["map_columns"] = _iso3_columns(singles)

    fidelity: dict[str, Any] = {}
    privacy: dict[str, Any] = {}
    if sens_data is not None and syn_data is not None:
        with clock("record codes"):
            space, maps = _space.record_space([sens_data, syn_data])
            sens_codes = _space.record_codes(sens_data, maps[0], space)
            syn_codes = _space.record_codes(syn_data, maps[1], space)
        with clock("marginals"):
            fidelity["marginals"] = marginal_fidelity(
                sens_codes, syn_codes, space.cardinality, space.names
            ).to_dict()
        with clock("propensity"):
            fidelity["propensity"] = propensity_score(
                sens_codes, syn_codes, space.cardinality, seed=seed
            ).to_dict()
        with clock("matches"):
            privacy["matches"] = match_risk(sens_codes, syn_codes).to_dict()
        with clock("distance to closest record"):
            privacy["distance_to_closest"] = distance_to_closest(
                sens_codes, syn_codes, seed=seed
            ).to_dict()
        with clock("membership audit"):
            privacy["membership_audit"] = _audit(
                release, sensitive, sens_data, holdout, audit, seed, notes
            )
    else:
        notes.append(
            "Fidelity and privacy-risk metrics need the sensitive data: run "
            "dpshowcase evaluate --sensitive DATA --release DIR (their result is not public)."
        )
    metrics["fidelity"] = fidelity or None
    metrics["privacy"] = privacy or None
    metrics["notes"] = notes
    metrics["timings"] = timings if timed else {}
    return metrics


class _Clock:
    def __init__(self, timings: dict[str, float], notify: Callable[[str], None]) -> None:
        self._timings = timings
        self._notify = notify

    def __call__(self, step: str) -> _Clock._Step:
        return _Clock._Step(self, step)

    class _Step:
        def __init__(self, clock: _Clock, step: str) -> None:
            self._clock = clock
            self._step = step
            self._start = 0.0

        def __enter__(self) -> None:
            self._clock._notify(self._step)
            self._start = time.perf_counter()

        def __exit__(self, *exc: object) -> None:
            elapsed = time.perf_counter() - self._start
            self._clock._timings[self._step] = round(
                self._clock._timings.get(self._step, 0.0) + elapsed, 4
            )


def _comparability(protected: pl.DataFrame, syn_counts: pl.DataFrame) -> dict[str, Any]:
    joined = (
        protected.select("combination", "length", pl.col("count").alias("p"))
        .join(
            syn_counts.select("combination", pl.col("count").alias("s")),
            on="combination",
            how="left",
        )
        .with_columns(pl.col("s").fill_null(0))
    )
    joined = joined.with_columns(
        pl.Series("agrees", agree(joined.get_column("s"), joined.get_column("p")))
    )
    by_length = joined.group_by("length").agg(
        pl.len().alias("released"), pl.col("agrees").sum().alias("agrees")
    )
    agreement = {
        str(int(k)): {"released": int(n), "agrees": int(a), "share": a / n if n else 0.0}
        for k, n, a in by_length.sort("length").iter_rows()
    }
    top = largest_disagreements(protected, syn_counts, top=TOP_DISAGREEMENTS)
    return {
        "tolerance": TOLERANCE,
        "agreement_by_length": agreement,
        "largest_disagreements": top.to_dicts(),
    }


def _distributions(
    columns: tuple[str, ...], singles: dict[str, pl.DataFrame]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for column in columns:
        per_source = {
            name: dict(
                table.filter(pl.col("column") == column).select("value", "count").iter_rows()
            )
            for name, table in singles.items()
        }
        order = per_source.get("protected") or per_source.get("sensitive") or {}
        values = sorted(
            {v for counts in per_source.values() for v in counts},
            # ties in value order: a set's order changes from one process to the next
            key=lambda v: (
                -order.get(v, 0),
                -max(c.get(v, 0) for c in per_source.values()),
                natural_key(v),
            ),
        )[:MAX_VALUES_PER_COLUMN]
        out[column] = {
            "values": values,
            **{name: [int(c.get(v, 0)) for v in values] for name, c in per_source.items()},
        }
    return out


def _coverage(
    schema: Any, singles: dict[str, pl.DataFrame], record_count: int | None, params: dict[str, Any]
) -> dict[str, Any]:
    wanted = [
        c for c in schema.column_names if COUNTRY_OF_EXPLOITATION.search(c) or DATA_SOURCE.search(c)
    ]
    multi = {s.name: s.kind is ColumnKind.MULTI_VALUE for s in schema.columns}
    tables = {name: singles.get(name) for name in ("sensitive", "protected", "synthetic")}
    columns = {
        c: column_coverage(c, multi_value=multi[c], record_count=record_count, **tables).to_dict()
        for c in wanted
    }
    suppression = {}
    for c in schema.column_names:
        cov = column_coverage(c, multi_value=multi[c], record_count=record_count, **tables)
        suppression[c] = {
            "released_values": sum(1 for x in (cov.protected or []) if x > 0),
            "suppressed_values": cov.suppressed_values,
            "suppressed_records": cov.suppressed_records,
            "unreleased_records": cov.unreleased_records,
        }
    return {"columns": columns, "suppression": suppression, "why": _why(params)}


def _why(params: dict[str, Any]) -> str:
    if params.get("mode") == "dp":
        lengths = params.get("lengths") or []
        first = lengths[0].get("threshold") if lengths and isinstance(lengths[0], dict) else None
        shown = f" ({first:,.1f})" if isinstance(first, int | float) else ""
        return (
            "A value is suppressed when its noisy count does not exceed the threshold for "
            f"single attributes{shown}, which the guarantee fixes: rare values cannot be "
            "told apart from noise, so they are withheld."
        )
    k = params.get("resolution")
    if k:
        return f"A value is suppressed when fewer than k = {k} records hold it (k-anonymity)."
    return "Values are suppressed when the protection withholds their counts."


def _iso3_columns(singles: dict[str, pl.DataFrame]) -> list[str]:
    ids = world_ids()
    table = singles.get("protected")
    if table is None:
        table = singles.get("synthetic", singles.get("sensitive"))
    if table is None or table.height == 0:
        return []
    out = []
    for (column,), part in table.group_by(["column"], maintain_order=True):
        values = part.get_column("value").to_list()
        if len(values) >= 3 and np.mean([v in ids for v in values]) >= 0.8:
            out.append(str(column))
    return out


def _audit(
    release: PublicRelease,
    sensitive: pl.DataFrame | None,
    sens_data: SensitiveData,
    holdout: pl.DataFrame | None,
    audit: bool,
    seed: int,
    notes: list[str],
) -> dict[str, Any] | None:
    schema = release.schema
    if sensitive is not None:
        schema = _space.fixed_bins(schema, sensitive)
    if holdout is not None and release.synthetic is not None:
        hold = encode(holdout, schema, allow_identifiers=True)
        syn = _space.encode_released(release.synthetic, schema)
        space, maps = _space.record_space([sens_data, hold, syn])
        return membership_audit(
            _space.record_codes(sens_data, maps[0], space),
            _space.record_codes(hold, maps[1], space),
            _space.record_codes(syn, maps[2], space),
            epsilon=release.epsilon,
            delta=release.delta,
            source="holdout",
            seed=seed,
        ).to_dict()
    if not audit:
        notes.append("The membership audit was not asked for.")
        return None
    if release.parameters.get("mode") != "dp" or sensitive is None:
        notes.append(
            "The membership audit needs records held out from the release (--holdout) "
            "unless the release is differentially private and can be re-run."
        )
        return None
    if schema.subject_id:
        notes.append(
            "The re-release audit splits rows, not subjects; with a subject id give "
            "--holdout subjects instead."
        )
        return None
    members, non_members, synthetic = rerelease_audit_data(
        sensitive, schema, release.parameters, seed=seed
    )
    parts = [
        encode(members, schema, allow_identifiers=True),
        encode(non_members, schema, allow_identifiers=True),
        _space.encode_released(synthetic, release.schema),
    ]
    space, maps = _space.record_space(parts)
    codes = [_space.record_codes(p, m, space) for p, m in zip(parts, maps, strict=True)]
    return membership_audit(
        *codes,
        epsilon=release.epsilon,
        delta=release.delta,
        source="re-release",
        seed=seed,
    ).to_dict()
