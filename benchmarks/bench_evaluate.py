"""Benchmark: the evaluation (issue 5).

1. Time and peak memory of the whole evaluation (every metric, report written) of the
   250,000-row demo release against its sensitive data; target < 30 s on 2 cores.
2. The evaluation's metrics for our release vs pac-synth vs MST and AIM (smartnoise-synth)
   at ε ∈ {1, 4} on ACS ma2019 with SDNist's industry-focused features (9 columns, all
   categorical, "0" and "N" values like any other); the k-marginal score is SDNist's,
   grouped by PUMA (the figure NIST publishes; pac-synth at ε = 1 scored 492 there).

    .venv/bin/python benchmarks/bench_evaluate.py --demo-release DIR --demo-data cases.csv
    .venv/bin/python benchmarks/bench_evaluate.py --skip-demo --epsilon 1,4 \\
        --methods ours,pac-synth,mst,aim

Without --demo-release the demo data and release are made first (slow: the release
itself is not what is timed). Peers: ``bash benchmarks/setup_peers.sh`` (pac-synth) and
``python3 -m venv benchmarks/.venv-snsynth && benchmarks/.venv-snsynth/bin/pip install
torch==2.13.0 smartnoise-synth`` (MST, AIM); a method whose environment is missing is
reported as such. Every run is a fresh process; figures go to stdout and
benchmarks/results/evaluate.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "nist-acs"
CLI = str(Path(sys.executable).with_name("dpshowcase"))
PAC_PYTHON = ROOT / "benchmarks" / ".venv-peers" / "bin" / "python"
SN_PYTHON = ROOT / "benchmarks" / ".venv-snsynth" / "bin" / "python"
INDUSTRY = ["PUMA", "SEX", "MSP", "HISP", "RAC1P", "OWN_RENT", "INDP_CAT", "EDU", "PINCP_DECILE"]
RESULTS = ROOT / "benchmarks" / "results" / "evaluate.json"


def run(command: list[str], timeout: float = 3600) -> tuple[float, str]:
    """Wall seconds and stdout of a child process; raises with its stderr on failure."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} … failed:\n{done.stderr[-3000:]}")
    return wall, done.stdout


def last_json(text: str) -> dict:
    return json.loads([line for line in text.splitlines() if line.startswith("{")][-1])


# --- part 1: evaluation time on the demo release -------------------------------------


def child_evaluate(release: Path, data: Path) -> None:
    """In a fresh process: the full evaluation and its report; print one JSON line."""
    start = time.perf_counter()
    from dpshowcase.data.load import read_table
    from dpshowcase.evaluate.evaluation import evaluate_release
    from dpshowcase.evaluate.release_files import load_release
    from dpshowcase.evaluate.report import write_report

    imported = time.perf_counter()
    public = load_release(release)
    sensitive = read_table(data)
    loaded = time.perf_counter()
    metrics = evaluate_release(public, sensitive=sensitive)
    evaluated = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        write_report(metrics, Path(folder))
    written = time.perf_counter()
    print(
        json.dumps(
            {
                "import_s": round(imported - start, 2),
                "load_s": round(loaded - imported, 2),
                "evaluate_s": round(evaluated - loaded, 2),
                "report_s": round(written - evaluated, 2),
                "total_s": round(written - start, 2),
                "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "steps": metrics["timings"],
                "sensitive_records": metrics["sizes"]["sensitive_records"],
                "synthetic_records": metrics["sizes"]["synthetic_records"],
            }
        )
    )


def demo_part(release: Path | None, data: Path | None, repeats: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        if release is None or data is None:
            data = Path(tmp) / "cases.csv"
            schema = Path(tmp) / "schema.toml"
            release = Path(tmp) / "release"
            print("making the 250,000-row demo release (not timed) …", flush=True)
            run([CLI, "demo-data", "--rows", "250000", "--output", str(data)])
            run([CLI, "schema", "infer", str(data), "--output", str(schema)])
            run([CLI, "release", str(data), "--schema", str(schema), "--epsilon", "4",
                 "--output", str(release)])  # fmt: skip
        runs = []
        for i in range(repeats):
            wall, out = run([sys.executable, __file__, "--child-evaluate", str(release), str(data)])
            result = last_json(out) | {"run": i + 1, "process_wall_s": round(wall, 2)}
            runs.append(result)
            print(json.dumps(result), flush=True)
        return runs


# --- part 2: metrics of four synthesizers on ACS ma2019 ------------------------------


SCHEMA_TOML = "\n".join(
    f'[[columns]]\nname = "{c}"\nkind = "categorical"\nsensitive_zero = true\n' for c in INDUSTRY
)


def child_score(
    method: str, epsilon: float, synthetic: Path, aggregates: Path | None, data: Path
) -> None:
    """In a fresh process: every metric of one synthetic table; print one JSON line."""
    import tomllib

    import polars as pl

    from dpshowcase.aggregate.io import read_counts
    from dpshowcase.evaluate.evaluation import evaluate_release
    from dpshowcase.evaluate.kmarginal import k_marginal_score
    from dpshowcase.evaluate.release_files import PublicRelease
    from dpshowcase.schema.toml_io import schema_from_dict

    schema = schema_from_dict(tomllib.loads(SCHEMA_TOML))
    target = pl.read_csv(data, infer_schema=False)
    deid = pl.read_csv(synthetic, infer_schema=False).select(INDUSTRY)
    deid = deid.with_columns(pl.all().str.replace(r"^([+-]?\d+)\.0*$", "${1}"))
    protected = read_counts(aggregates) if aggregates is not None else None
    release = PublicRelease(
        path=None,
        schema=schema,
        parameters={"mode": "dp", "epsilon": epsilon, "reporting_length": 3},
        protected=protected,
        synthetic=deid,
        source=data.name,
    )
    start = time.perf_counter()
    m = evaluate_release(release, sensitive=target, audit=False)
    seconds = time.perf_counter() - start
    kmarg = k_marginal_score(target, deid, k=3, group_column="PUMA")
    syn = m["combinations"]["sensitive_vs_synthetic"]
    length3 = syn["by_length"][2]
    agreement = None
    if m["comparability"]:
        rows = m["comparability"]["agreement_by_length"].values()
        agreement = sum(r["agrees"] for r in rows) / max(sum(r["released"] for r in rows), 1)
    print(
        json.dumps(
            {
                "method": method,
                "epsilon": epsilon,
                "rows": m["sizes"]["synthetic_records"],
                "kmarginal_sdnist": kmarg.overall_sdnist,
                "kmarginal_3way": round(m["fidelity"]["marginals"]["k_marginal_score"], 1),
                "tvd": {k: round(v, 4) for k, v in m["fidelity"]["marginals"]["mean_tvd"].items()},
                "pmse": round(m["fidelity"]["propensity"]["pmse"], 4),
                "auc": round(m["fidelity"]["propensity"]["auc"], 3),
                "preservation": round(syn["preservation"], 3),
                "fabricated_3_share": round(
                    length3["fabricated"] / max(length3["output_combinations"], 1), 3
                ),
                "suppressed_3_share": round(
                    length3["suppressed"] / max(length3["reference_combinations"], 1), 3
                ),
                "unique_exact_matches": m["privacy"]["matches"]["sensitive_uniques_matched"],
                "unique_exact_match_share": round(
                    m["privacy"]["matches"]["sensitive_uniques_matched_share"], 4
                ),
                "dcr_zero_share": round(
                    m["privacy"]["distance_to_closest"]["synthetic_at_zero"], 3
                ),
                "agreement_with_own_counts": round(agreement, 3) if agreement is not None else None,
                "evaluate_s": round(seconds, 2),
            }
        )
    )


def synthesize(method: str, epsilon: float, data: Path, folder: Path) -> tuple[Path, Path | None]:
    """Run one method; return its synthetic CSV and its published counts (if any)."""
    folder.mkdir(parents=True, exist_ok=True)
    if method == "ours":
        schema = folder / "schema.toml"
        schema.write_text(SCHEMA_TOML, encoding="utf-8")
        bundle = folder / "bundle"
        run([CLI, "release", str(data), "--schema", str(schema), "--epsilon", str(epsilon),
             "--output", str(bundle)])  # fmt: skip
        return bundle / "synthetic.csv", bundle / "aggregates.csv"
    if method == "pac-synth":
        if not PAC_PYTHON.exists():
            raise FileNotFoundError(
                "benchmarks/.venv-peers missing: bash benchmarks/setup_peers.sh"
            )
        synthetic, aggregates = folder / "synthetic.csv", folder / "aggregates.csv"
        run([str(PAC_PYTHON), str(ROOT / "benchmarks" / "peers" / "pacsynth_run.py"), str(data),
             "--mode", "dp", "--reporting-length", "3", "--epsilon", str(epsilon),
             "--sensitive-zeros", "all", "--sample-size", "dp",
             "--output-synthetic", str(synthetic), "--output-aggregates", str(aggregates)])  # fmt: skip
        return synthetic, aggregates
    if not SN_PYTHON.exists():
        raise FileNotFoundError("benchmarks/.venv-snsynth missing (smartnoise-synth)")
    synthetic = folder / "synthetic.csv"
    run([str(SN_PYTHON), str(ROOT / "benchmarks" / "peers" / "smartnoise_run.py"), str(data),
         "--synth", method, "--epsilon", str(epsilon), "--output", str(synthetic)])  # fmt: skip
    return synthetic, None


def acs_part(epsilons: list[float], methods: list[str]) -> list[dict]:
    source = SHARED / "ma2019.csv"
    if not source.exists():
        print(f"{source} not found: skipping the ACS part")
        return []
    import polars as pl

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "ma2019_industry.csv"
        pl.read_csv(source, infer_schema=False).select(INDUSTRY).write_csv(data)
        for epsilon in epsilons:
            for method in methods:
                folder = Path(tmp) / f"{method}-{epsilon:g}"
                try:
                    start = time.perf_counter()
                    synthetic, aggregates = synthesize(method, epsilon, data, folder)
                    made = time.perf_counter() - start
                except (RuntimeError, FileNotFoundError, subprocess.TimeoutExpired) as exc:
                    row = {"method": method, "epsilon": epsilon, "error": str(exc)[-400:]}
                    print(json.dumps(row), flush=True)
                    rows.append(row)
                    continue
                command = [sys.executable, __file__, "--child-score", method, str(epsilon),
                           str(synthetic), str(aggregates or "-"), str(data)]  # fmt: skip
                _, out = run(command)
                row = last_json(out) | {"synthesis_s": round(made, 1)}
                print(json.dumps(row), flush=True)
                rows.append(row)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--demo-release", type=Path)
    p.add_argument("--demo-data", type=Path)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--skip-demo", action="store_true")
    p.add_argument("--skip-acs", action="store_true")
    p.add_argument("--epsilon", default="1,4")
    p.add_argument("--methods", default="ours,pac-synth,mst,aim")
    p.add_argument("--child-evaluate", nargs=2, type=Path, help=argparse.SUPPRESS)
    p.add_argument("--child-score", nargs=5, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_evaluate:
        child_evaluate(*args.child_evaluate)
        return
    if args.child_score:
        method, epsilon, synthetic, aggregates, data = args.child_score
        child_score(
            method,
            float(epsilon),
            Path(synthetic),
            None if aggregates == "-" else Path(aggregates),
            Path(data),
        )
        return
    results: dict = {}
    if not args.skip_demo:
        results["demo"] = demo_part(args.demo_release, args.demo_data, args.repeats)
    if not args.skip_acs:
        results["acs"] = acs_part(
            [float(e) for e in args.epsilon.split(",")], args.methods.split(",")
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
