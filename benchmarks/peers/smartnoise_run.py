"""Run MST or AIM from smartnoise-synth (OpenDP's SmartNoise) on one CSV of categories.

Run it with its own environment, never with dpshowcase's venv::

    bash benchmarks/setup_peers.sh      # creates benchmarks/.venv-snsynth (no PyTorch)
    benchmarks/.venv-snsynth/bin/python benchmarks/peers/smartnoise_run.py DATA.csv \\
        --synth mst --epsilon 1 --output synth.csv

Every column is treated as categorical (cells read as text, "N" and "0" are values like
any other), the domain is taken from the data as smartnoise-synth does by default, and
``preprocessor_eps`` is 0: no budget is spent on bounds of categorical columns. Prints one
JSON line: seconds to fit and sample, rows in and out.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
from snsynth import Synthesizer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("csv", type=Path)
    p.add_argument("--synth", choices=["mst", "aim"], required=True)
    p.add_argument("--epsilon", type=float, required=True)
    p.add_argument("--delta", type=float, help="default: smartnoise-synth's 1/n^1.5 or so")
    p.add_argument("--rows", type=int, help="rows to sample (default: as many as the input)")
    p.add_argument("--output", type=Path, required=True)
    args = p.parse_args()
    data = pd.read_csv(args.csv, dtype=str, keep_default_na=False)
    start = time.perf_counter()
    kwargs = {"epsilon": args.epsilon, "verbose": False}
    if args.delta is not None:
        kwargs["delta"] = args.delta
    synth = Synthesizer.create(args.synth, **kwargs)
    synth.fit(data, categorical_columns=list(data.columns), preprocessor_eps=0.0)
    fitted = time.perf_counter()
    out = synth.sample(args.rows or len(data))
    sampled = time.perf_counter()
    out.astype(str).to_csv(args.output, index=False)
    print(
        json.dumps(
            {
                "tool": f"smartnoise-synth {args.synth}",
                "fit_seconds": round(fitted - start, 3),
                "sample_seconds": round(sampled - fitted, 3),
                "rows_in": len(data),
                "rows_out": len(out),
            }
        )
    )


if __name__ == "__main__":
    main()
