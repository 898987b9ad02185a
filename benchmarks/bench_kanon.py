"""Benchmark: k-anonymous releases beside classic k-anonymization and DP synthesis (issue 4).

    .venv/bin/python benchmarks/bench_kanon.py [--quick] [--modes row-seeded,unseeded]

On the demo data (250,000 rows) and NIST's ACS national2019 excerpt (read from
../shared/data, never copied; "N" null; the schema of bench_aggregate.py), k = 10,
R = 3 and R = 4. Each method runs in a fresh process (``_ours_kanon.py``): wall time,
time per stage, peak resident memory, and the output beside the exact counts
(preserved, suppressed, fabricated per length). pac-synth 0.0.8 exposes no
k-anonymity synthesizer (only DP aggregate-seeded), so there is no peer to time here.
Prints a table and writes benchmarks/results/kanon.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench_aggregate import ROOT, SHARED, acs_schema, demo_file, run

WORKER = [sys.executable, str(ROOT / "benchmarks" / "_ours_kanon.py")]
K = 10
EPSILON = 4.0
MODES = ("row-seeded", "value-seeded", "unseeded", "aggregate-seeded")
QUASI = {
    "demo": "gender,ageBroad,citizenship",
    "acs": "SEX,AGEP,RAC1P,HISP,MSP",
}


def one(data: Path, schema: Path, method: str, r: int, quasi: str) -> dict:
    return run(
        [
            *WORKER,
            str(data),
            "--schema",
            str(schema),
            "--method",
            method,
            "--k",
            str(K),
            "--reporting-length",
            str(r),
            "--quasi",
            quasi,
            "--epsilon",
            str(EPSILON),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="R = 3 only.")
    parser.add_argument("--modes", default=",".join(MODES), help="k-anonymity modes to run.")
    parser.add_argument("--rows", type=int, default=250_000, help="Rows of demo data.")
    args = parser.parse_args()
    methods = ["baseline", *args.modes.split(","), "dp"]
    lengths = (3,) if args.quick else (3, 4)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data, schema = demo_file(args.rows, folder)
        cases = [(f"demo {args.rows:,}", data, schema, QUASI["demo"])]
        acs = SHARED / "nist-acs" / "national2019.csv"
        if acs.exists():
            cases.append(("ACS national2019", acs, acs_schema(acs, folder), QUASI["acs"]))
        for label, path, schema_path, quasi in cases:
            for r in lengths:
                for method in methods:
                    out = one(path, schema_path, method, r, quasi)
                    out.update({"data": label, "R": r})
                    results.append(out)
                    print(_line(out), flush=True)
    target = ROOT / "benchmarks" / "results"
    target.mkdir(exist_ok=True)
    (target / "kanon.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


def _line(out: dict) -> str:
    lengths = " | ".join(
        f"L{e['length']} kept {e['preserved_share']:.1%} "
        f"(≥k {e['preserved_releasable']:,}/{e['releasable']:,}) fab {e['fabricated']:,}"
        for e in out["lengths"]
    )
    synth = out["phases"].get("synthesize") or out["phases"].get("DP synthesize") or 0.0
    return (
        f"{out['data']:>16} R={out['R']} {out['method']:>16}  wall {out['wall']:6.1f} s "
        f"(synthesis {synth:6.1f} s) {out['peak_mib']:6.0f} MiB  rows {out['rows_out']:>8,} "
        f"| {lengths}"
    )


if __name__ == "__main__":
    main()
