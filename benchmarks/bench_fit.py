"""How close the fitted (published) counts of a DP release are to the true counts.

    .venv/bin/python benchmarks/bench_fit.py [--rows 50000] [--epsilon 4] [--seed 4]

On demo case records (the first ten columns: single values and exploitation flags),
protects the counts at ε (seeded noise: a measurement, not a release), fits synthetic
records to them, and prints per combination length the mean absolute error of the
noisy measurements and of the fitted counts against the true counts, the fit's worst
error, and the combinations it gets most wrong; and how many released pairs the
synthetic records hold within 2% (or one record) of their released and of their true
count (issue 14's convergence rule, at ε ≈ ∞). Synthesis time is printed too.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.data.demo import generate_demo_records
from dpshowcase.data.prepare import prepare
from dpshowcase.privacy.marginals import DPMarginals
from dpshowcase.synthesize.aggregate_seeded import AggregateSeededSynthesizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--epsilon", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=4, help="noise and synthesis seed")
    parser.add_argument("--reporting-length", type=int, default=3)
    parser.add_argument("--worst", type=int, default=5, help="combinations to list")
    args = parser.parse_args()
    r = args.reporting_length
    frame = generate_demo_records(args.rows, seed=2)
    sensitive = prepare(frame.select(frame.columns[:10]))
    exact = count_combinations(sensitive, r)
    truth = dict(zip(exact.labels().to_list(), exact.counts.tolist(), strict=True))
    protected = DPMarginals(
        epsilon=args.epsilon, allow_large_epsilon=True, reporting_length=r, seed=args.seed
    ).fit(sensitive)
    start = time.perf_counter()
    synthesizer = AggregateSeededSynthesizer(seed=args.seed).fit(protected)
    synthesizer.sample()
    seconds = time.perf_counter() - start
    synthetic_all = synthesizer.synthetic_aggregates().counts.counts
    # the published counts (aggregates.csv): singles as measured, longer ones synthetic
    fitted = np.where(protected.counts.lengths == 1, protected.counts.counts, synthetic_all)
    labels = protected.counts.labels().to_list()
    true = np.array([truth.get(label, 0) for label in labels])
    measured = protected.counts.counts
    lengths = protected.counts.lengths
    print(f"{args.rows:,} demo rows, ε = {args.epsilon:g}, R = {r}: synthesis {seconds:.1f} s")
    for k in range(1, r + 1):
        at = lengths == k
        fit_error = np.abs(fitted[at] - true[at])
        print(
            f"  length {k}: MAE measured {np.abs(measured[at] - true[at]).mean():.2f}, "
            f"fitted {fit_error.mean():.2f}, worst fitted {fit_error.max():,}"
        )
    pairs = lengths == 2
    synthetic = synthetic_all[pairs]
    for name, count in (("released", measured[pairs]), ("true", true[pairs])):
        gap = np.abs(synthetic - count)
        within = gap <= np.maximum(0.02 * count, 1)
        large = count >= 50
        print(
            f"  pairs within 2% (or one record) of their {name} count: "
            f"{within.sum():,} of {pairs.sum():,}; worst: {gap.max():,} records, "
            f"{(gap[large] / count[large]).max(initial=0):.1%} among counts ≥ 50"
        )
    for i in np.argsort(-np.abs(fitted - true))[: args.worst]:
        print(f"  {labels[i]}: true {true[i]:,}, measured {measured[i]:,}, fitted {fitted[i]:,}")


if __name__ == "__main__":
    main()
