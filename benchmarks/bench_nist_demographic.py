"""Benchmark: NIST k-marginal of a DP release on ACS national2019, demographic features.

    .venv/bin/python benchmarks/bench_nist_demographic.py [--epsilon 1,10] [--peer]

SDNist's demographic-focused feature set (AGEP, SEX, MSP, RAC1P, HOUSING_TYPE, OWN_RENT,
EDU, PINCP_DECILE, DVET, DEYE; no PUMA, so the score is over all 2-way marginals).
AGEP is cut into 20 percentile bins of the target first, as SDNist does before scoring;
every other value (``N`` included) is a category. Ours: ``dpshowcase release`` at R = 3,
δ from the record count, OpenDP noise. With ``--peer``, pac-synth runs on the same file
in the same run. Published scores (SDNist v2.3/v2.5 sample reports, in
../shared/data/nist-acs/benchmarks/) are printed beside ours.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "nist-acs"
CLI = str(Path(sys.executable).with_name("dpshowcase"))
PEER = [
    str(ROOT / "benchmarks" / ".venv-peers" / "bin" / "python"),
    str(ROOT / "benchmarks" / "peers" / "pacsynth_run.py"),
]
FEATURES = ["AGEP", "SEX", "MSP", "RAC1P", "HOUSING_TYPE", "OWN_RENT", "EDU", "PINCP_DECILE",
            "DVET", "DEYE"]  # fmt: skip
PUBLISHED = {  # national2019, demographic-focused, SDNist k-marginal
    1.0: {"AIM": 976, "MST": 958, "pac-synth": 567},
    10.0: {"MST": 969, "pac-synth": 910},
}


def demographic_table(folder: Path) -> Path:
    """The feature set as categories, AGEP in 20 percentile bins of the target."""
    frame = pl.read_csv(SHARED / "national2019.csv", infer_schema=False).select(FEATURES)
    age = frame.get_column("AGEP").cast(pl.Float64, strict=False).to_numpy()
    edges = np.unique(np.nanpercentile(age, np.linspace(0, 100, 21)))
    codes = np.clip(np.searchsorted(edges, age, side="right") - 1, 0, len(edges) - 2)
    labels = [f"[{edges[c]:g},{edges[c + 1]:g}{']' if c == len(edges) - 2 else ')'}"
              for c in codes]  # fmt: skip
    frame = frame.with_columns(pl.Series("AGEP", labels))
    path = folder / "national2019_demographic.csv"
    frame.write_csv(path)
    return path


def run(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def score(target: Path, synthetic: Path) -> int:
    from dpshowcase.evaluate.kmarginal import k_marginal_score

    t = pl.read_csv(target, infer_schema=False)
    d = pl.read_csv(synthetic, infer_schema=False).select(FEATURES)
    return k_marginal_score(t, d, k=2).overall_sdnist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilon", default="1,10")
    parser.add_argument("--peer", action="store_true", help="also run pac-synth")
    args = parser.parse_args()
    if not (SHARED / "national2019.csv").exists():
        raise SystemExit(f"{SHARED / 'national2019.csv'} not found")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = demographic_table(folder)
        schema = folder / "schema.toml"
        schema.write_text(
            "\n".join(
                f'[[columns]]\nname = "{c}"\nkind = "categorical"\nsensitive_zero = true\n'
                for c in FEATURES
            ),
            encoding="utf-8",
        )
        for eps in args.epsilon.split(","):
            out = folder / f"ours-{eps}"
            wall = run([CLI, "release", str(data), "--schema", str(schema), "--epsilon", eps,
                        "--output", str(out)])  # fmt: skip
            row = {"epsilon": float(eps), "ours": score(data, out / "synthetic.csv"),
                   "ours_wall_s": round(wall, 1)}  # fmt: skip
            if args.peer:
                syn = folder / f"peer-{eps}.csv"
                wall = run([*PEER, str(data), "--mode", "dp", "--epsilon", eps,
                            "--reporting-length", "3", "--sensitive-zeros", "all",
                            "--output-synthetic", str(syn),
                            "--output-aggregates", str(folder / f"peer-{eps}-agg.csv")])  # fmt: skip
                row |= {"pac_synth_same_run": score(data, syn), "pac_synth_wall_s": round(wall, 1)}
            row["published"] = PUBLISHED.get(float(eps), {})
            results.append(row)
            print(json.dumps(row), flush=True)
    target = ROOT / "benchmarks" / "results"
    target.mkdir(exist_ok=True)
    (target / "nist_demographic.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
