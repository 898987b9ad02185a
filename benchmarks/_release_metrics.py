"""Compare a synthetic table (and the counts published with it) with the sensitive data.

Run in a fresh process by bench_release.py; prints one JSON line. Figures, per length:
- error of synthetic counts against sensitive counts, over combinations whose sensitive
  count is ≥ 10: mean absolute error and mean relative error;
- fabricated: synthetic combinations absent from the sensitive data (% of the distinct
  synthetic ones, and % of their occurrences: how much of the synthetic counts is made up);
- suppressed: sensitive combinations absent from the synthetic data (% of sensitive ones);
- comparability: over published combinations with published count ≥ 50, the median and
  95th percentile of |synthetic − published| / published;
- published accuracy: mean absolute error against the sensitive counts of the published
  counts and, with --noisy, of the raw noisy measurements, over the released combinations;
  ``published_mae_released`` takes the published counts over the combinations of the
  noisy file (a combination not listed counts as published 0): the same set as the noisy
  figure, which is issue 14's point 3;
- fabricated_distinct: distinct synthetic combinations absent from the sensitive data.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import polars as pl

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.data.encode import encode
from dpshowcase.data.load import read_table
from dpshowcase.schema.model import Schema
from dpshowcase.schema.toml_io import load_schema


def counts_of(frame: pl.DataFrame, schema: Schema, r: int) -> dict[str, int]:
    data = encode(frame, schema, allow_identifiers=True)
    c = count_combinations(data, r)
    return dict(zip(c.labels().to_list(), c.counts.tolist(), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sensitive", type=Path)
    parser.add_argument("synthetic", type=Path)
    parser.add_argument("published", type=Path)
    parser.add_argument("--schema", type=Path, required=True)
    parser.add_argument("--reporting-length", type=int, default=3)
    parser.add_argument("--noisy", type=Path, help="noisy_aggregates.csv, if the tool has one")
    args = parser.parse_args()
    r = args.reporting_length
    schema = load_schema(args.schema)
    sensitive = counts_of(read_table(args.sensitive), schema, r)
    synthetic_frame = read_table(args.synthetic)
    synthetic = counts_of(synthetic_frame, schema.as_released(), r)
    published_frame = pl.read_csv(args.published, schema_overrides={"combination": pl.String})
    published = dict(
        zip(
            published_frame["combination"].to_list(),
            published_frame["count"].to_list(),
            strict=True,
        )
    )
    noisy = None
    if args.noisy is not None and args.noisy.exists():
        noisy_frame = pl.read_csv(args.noisy, schema_overrides={"combination": pl.String})
        noisy = dict(
            zip(noisy_frame["combination"].to_list(), noisy_frame["count"].to_list(), strict=True)
        )
    out: dict[str, object] = {"rows_out": synthetic_frame.height, "lengths": {}}
    for k in range(1, r + 1):
        sens_k = {c: v for c, v in sensitive.items() if c.count(";") == k - 1}
        syn_k = {c: v for c, v in synthetic.items() if c.count(";") == k - 1}
        big = [c for c, v in sens_k.items() if v >= 10]
        abs_err = np.array([abs(syn_k.get(c, 0) - sens_k[c]) for c in big], dtype=float)
        rel_err = abs_err / np.array([sens_k[c] for c in big], dtype=float) if big else abs_err
        pub_k = [c for c, v in published.items() if v >= 50 and c.count(";") == k - 1]
        gap = np.array([abs(synthetic.get(c, 0) - published[c]) / published[c] for c in pub_k])
        out["lengths"][k] = {  # type: ignore[index]
            "mae": float(abs_err.mean()) if big else None,
            "mre": float(rel_err.mean()) if big else None,
            "fabricated_pct": 100 * sum(1 for c in syn_k if c not in sens_k) / max(len(syn_k), 1),
            "fabricated_occurrences_pct": 100
            * sum(v for c, v in syn_k.items() if c not in sens_k)
            / max(sum(syn_k.values()), 1),
            "suppressed_pct": 100 * sum(1 for c in sens_k if c not in syn_k) / max(len(sens_k), 1),
            "gap_median": float(np.median(gap)) if gap.size else None,
            "gap_p95": float(np.percentile(gap, 95)) if gap.size else None,
            "published_ge_50": len(pub_k),
            "fabricated_distinct": sum(1 for c in syn_k if c not in sens_k),
            "published_mae": _mae(published, sensitive, k),
            "noisy_mae": _mae(noisy, sensitive, k) if noisy is not None else None,
            "published_mae_released": _mae(
                {c: published.get(c, 0) for c in noisy}, sensitive, k
            )
            if noisy is not None
            else None,
        }
    gaps = []
    for c, v in published.items():
        if v >= 50:
            gaps.append(abs(synthetic.get(c, 0) - v) / v)
    out["gap_median"] = float(np.median(gaps)) if gaps else None
    out["gap_p95"] = float(np.percentile(gaps, 95)) if gaps else None
    print(json.dumps(out))


def _mae(released: dict[str, int], sensitive: dict[str, int], k: int) -> float | None:
    """Mean absolute error of released counts of length k against the sensitive ones."""
    errors = [abs(v - sensitive.get(c, 0)) for c, v in released.items() if c.count(";") == k - 1]
    return float(np.mean(errors)) if errors else None


if __name__ == "__main__":
    main()
