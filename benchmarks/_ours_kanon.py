"""Run one k-anonymity method (or the DP comparison) on one file; print one JSON line.

Run by bench_kanon.py in a fresh process so its time and peak memory are its own.
Methods: a k-anonymity synthesis mode (row-seeded, value-seeded, unseeded,
aggregate-seeded), "baseline" (classic k-anonymization) or "dp" (DP marginals and
aggregate-seeded synthesis). Every output is compared with the exact counts.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.data.encode import encode
from dpshowcase.data.load import read_table
from dpshowcase.kanon.baseline import k_anonymize
from dpshowcase.kanon.compare import compare
from dpshowcase.kanon.release import k_anonymous_release
from dpshowcase.privacy.marginals import DPMarginals
from dpshowcase.schema.toml_io import load_schema
from dpshowcase.synthesize.aggregate_seeded import AggregateSeededSynthesizer


class _Clock:
    """Seconds spent in each stage a library function reports."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._stage: str | None = None
        self._since = time.perf_counter()

    def __call__(self, stage: str, step: int = 0, steps: int = 0) -> None:
        if stage != self._stage:
            self.stop()
            self._stage = stage

    def stop(self) -> None:
        now = time.perf_counter()
        if self._stage is not None:
            self.phases[self._stage] = self.phases.get(self._stage, 0.0) + now - self._since
        self._since = now
        self._stage = None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("--schema", type=Path, required=True)
    parser.add_argument("--method", required=True)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--reporting-length", type=int, default=3)
    parser.add_argument("--quasi", default="")
    parser.add_argument("--epsilon", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    clock = _Clock()
    clock("load and encode")
    data = encode(read_table(args.data), load_schema(args.schema))
    clock("count exact")
    exact = count_combinations(data, args.reporting_length)
    out: dict = {"method": args.method, "rows_in": data.n_records}
    if args.method == "baseline":
        clock("k-anonymize")
        result = k_anonymize(data, args.quasi.split(","), args.k)
        output = result.records
        out["baseline"] = result.report.as_dict()
    elif args.method == "dp":
        protected = DPMarginals(
            epsilon=args.epsilon, reporting_length=args.reporting_length, seed=args.seed
        ).fit(data, progress=lambda *_: clock("DP protect"))
        clock("DP synthesize")
        output = AggregateSeededSynthesizer(seed=args.seed).fit(protected).sample()
    else:
        release = k_anonymous_release(
            data,
            k=args.k,
            mode=args.method,
            reporting_length=args.reporting_length,
            seed=args.seed,
            exact=exact,
            progress=lambda stage, *_: clock(
                "synthesize" if stage.startswith("Synthesizing") else stage
            ),
        )
        output = release.synthetic
        out["check"] = release.check.as_dict()
        out["agreement"] = [a.as_dict() for a in release.agreement]
    clock("compare")
    comparison = compare(args.method, output, exact, args.k, data.n_records)
    clock.stop()
    out["phases"] = clock.phases
    out["rows_out"] = comparison.rows
    out["lengths"] = [entry.as_dict() for entry in comparison.lengths]
    out["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
