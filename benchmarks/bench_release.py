"""Benchmark: a whole DP release, ours vs pac-synth (issue 3).

    bash benchmarks/setup_peers.sh   # once: pac-synth in benchmarks/.venv-peers
    .venv/bin/python benchmarks/bench_release.py [--data demo,ma2019,national2019,ctdc] [--epsilon 1,4]
        [--repeat 3] [--no-peer] [--fabrication-weight W]
        [--also "--fabrication-weight 5 --row-share 2.3"]

For each data set and ε (R = 3), both tools run in a fresh process on the same file,
columns, bins and treatment of "0", with δ inferred from the protected record count
(both: 1/(n·ln n)); ours draws noise from OpenDP (no seed). Reported: wall time and
peak memory of the whole process, rows out, and (computed afterwards in another
process, see _release_metrics.py) errors of synthetic counts against the sensitive
counts, fabricated and suppressed combinations, and the gap between the synthetic data
and the counts each tool publishes. Writes benchmarks/results/release.json.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import itertools

from bench_aggregate import ACS_DROP, ACS_EDGES, PEER, PEER_PYTHON, SHARED, acs_schema

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("dpshowcase"))
METRICS = [sys.executable, str(ROOT / "benchmarks" / "_release_metrics.py")]


def timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of a command run as a child process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = process.communicate()
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"{command[:3]} failed:\n{err[-3000:]}")
    return wall, _peak(out, err), out


def _peak(out: str, err: str) -> float:
    for line in (out + "\n" + err).splitlines()[::-1]:
        if line.startswith("PEAK_MIB "):
            return float(line.split()[1])
        if '"max_rss_mib"' in line:
            return float(json.loads(line)["max_rss_mib"])
    return float("nan")


def with_peak(command: list[str]) -> list[str]:
    """Run ``command`` under a tiny Python shim that prints its own peak RSS at exit."""
    shim = (
        "import resource,runpy,sys,atexit;"
        "atexit.register(lambda: print('PEAK_MIB', resource.getrusage(resource.RUSAGE_SELF)"
        ".ru_maxrss/1024, file=sys.stderr));"
        "sys.argv=sys.argv[1:];runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    return [sys.executable, "-c", shim, *command]


def demo(folder: Path) -> tuple[Path, Path]:
    path = folder / "demo.csv"
    subprocess.run(
        [CLI, "demo-data", "--rows", "250000", "--output", str(path)],
        check=True,
        capture_output=True,
    )
    return path, plain_schema(path, folder / "demo.toml")


def plain_schema(path: Path, schema: Path) -> Path:
    """A schema with every column of ``path`` as it is (what pac-synth reads too)."""
    columns = path.open(encoding="utf-8").readline().strip().split(",")
    schema.write_text("\n".join(f'[[columns]]\nname = "{c}"\n' for c in columns), encoding="utf-8")
    return schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="demo,ma2019,national2019")
    parser.add_argument("--epsilon", default="1,4")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each tool; medians shown")
    parser.add_argument("--no-peer", action="store_true", help="run ours only")
    parser.add_argument(
        "--fabrication-weight", type=float, default=None, help="ours: --fabrication-weight W"
    )
    parser.add_argument(
        "--also",
        default=None,
        help="ours once more per run with these release flags (another point of the trade-off)",
    )
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in args.data.split(","):
            if name == "demo":
                data, schema = demo(folder)
                acs = False
            elif name == "ctdc":  # the published CTDC victim-perpetrator file, as it is
                data = SHARED / "ctdc" / "CTDC_VPsynthetic_condensed.csv"
                if not data.exists():
                    print(f"{name}: not found under {SHARED}, skipped")
                    continue
                schema, acs = plain_schema(data, folder / "ctdc.toml"), False
            else:
                data = SHARED / "nist-acs" / f"{name}.csv"
                if not data.exists():
                    print(f"{name}: not found under {SHARED}, skipped")
                    continue
                schema, acs = acs_schema(data, folder), True
            for eps in args.epsilon.split(","):
                runs = []
                for i in range(args.repeat):
                    ours = run_ours(
                        data,
                        schema,
                        eps,
                        folder / f"ours-{name}-{eps}-{i}",
                        args.fabrication_weight,
                    )
                    peer = (
                        None
                        if args.no_peer
                        else run_peer(data, eps, folder, f"{name}-{eps}-{i}", acs, schema)
                    )
                    also = (
                        None
                        if args.also is None
                        else run_ours(
                            data,
                            schema,
                            eps,
                            folder / f"ours-{name}-{eps}-{i}-also",
                            extra=shlex.split(args.also),
                        )
                    )
                    runs.append({"ours": ours, "pac_synth": peer, "ours_also": also})
                    _print(name, eps, ours, peer, also, args.also)
                also = None
                if args.repeat > 1:
                    ours = _median([r["ours"] for r in runs])
                    peer = _median([r["pac_synth"] for r in runs]) if runs[0]["pac_synth"] else None
                    also = _median([r["ours_also"] for r in runs]) if runs[0]["ours_also"] else None
                    median = f"{eps} (median of {args.repeat})"
                    _print(name, median, ours, peer, also, args.also)
                results.append(
                    {
                        "data": name,
                        "epsilon": float(eps),
                        "ours": ours,
                        "pac_synth": peer,
                        "ours_also": also or runs[-1]["ours_also"],
                        "also_flags": args.also,
                        "runs": runs,
                    }
                )
    target = ROOT / "benchmarks" / "results"
    target.mkdir(exist_ok=True)
    (target / "release.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


def run_ours(
    data: Path,
    schema: Path,
    eps: str,
    out: Path,
    fabrication_weight: float | None = None,
    extra: list[str] | None = None,
) -> dict:
    """One ``dpshowcase release`` as a whole process, then its metrics."""
    command = [CLI, "release", str(data), "--schema", str(schema), "--epsilon", eps,
               "--reporting-length", "3", "--output", str(out)]  # fmt: skip
    if fabrication_weight is not None:
        command += ["--fabrication-weight", str(fabrication_weight)]
    command += extra or []
    wall, peak, _ = timed(with_peak(command))
    ours = {"wall": wall, "peak_mib": peak}
    metrics = [*METRICS, str(data), str(out / "synthetic.csv"), str(out / "aggregates.csv"),
               "--schema", str(schema), "--noisy", str(out / "noisy_aggregates.csv")]  # fmt: skip
    ours.update(json.loads(timed(metrics)[2]))
    return ours


def run_peer(data: Path, eps: str, folder: Path, tag: str, acs: bool, schema: Path) -> dict | None:
    """One pac-synth run (DpAggregateSeededSynthesizer) as a whole process, then its metrics."""
    if not PEER_PYTHON.exists():
        return None
    syn, agg = folder / f"peer-{tag}.csv", folder / f"peer-{tag}-agg.csv"
    command = [*PEER, str(data), "--mode", "dp", "--epsilon", eps, "--reporting-length", "3",
               "--output-synthetic", str(syn), "--output-aggregates", str(agg)]  # fmt: skip
    if acs:
        columns = [c for c in data.open().readline().strip().split(",") if c not in ACS_DROP]
        command += ["--nulls", "N", "--columns", ",".join(columns), "--sensitive-zeros", "all",
                    "--bin-numeric", "--numeric-columns", ",".join(ACS_EDGES),
                    "--bin-edges", json.dumps(ACS_EDGES)]  # fmt: skip
        # pac-synth's synthetic values are bin labels for ACS: compare on its own bins
        schema = _peer_schema(data, folder)
    wall, peak, _ = timed(command)
    peer = {"wall": wall, "peak_mib": peak}
    metrics = [*METRICS, str(_peer_sensitive(data, folder, acs)), str(syn), str(agg),
               "--schema", str(schema)]  # fmt: skip
    peer.update(json.loads(timed(metrics)[2]))
    return peer


def _median(runs: list[dict]) -> dict:
    """Per figure, the median over runs (nested per-length figures too)."""
    out: dict = {}
    for key, value in runs[0].items():
        if isinstance(value, dict):
            out[key] = _median([r[key] for r in runs])
        elif isinstance(value, int | float) and not isinstance(value, bool):
            values = [r[key] for r in runs if r[key] is not None]
            out[key] = statistics.median(values) if values else None
        else:
            out[key] = value
    return out


def _peer_sensitive(data: Path, folder: Path, acs: bool) -> Path:
    """The sensitive file as pac-synth saw it (ACS: numeric columns cut at its bin labels)."""
    if not acs:
        return data
    target = folder / f"{data.stem}-peer-binned.csv"
    if not target.exists():
        import polars as pl

        frame = pl.read_csv(data, infer_schema=False).drop(list(ACS_DROP))
        for column, edges in ACS_EDGES.items():
            values = frame.get_column(column).cast(pl.Float64, strict=False)
            labels = (
                [f"<{edges[0]}"]
                + [f"[{a},{b})" for a, b in itertools.pairwise(edges)]
                + [f">={edges[-1]}"]
            )
            import numpy as np

            codes = np.searchsorted(
                np.array(edges, dtype=float), values.fill_null(np.nan).to_numpy(), side="right"
            )
            binned = [
                None if v is None else labels[c]
                for v, c in zip(values.to_list(), codes, strict=False)
            ]
            frame = frame.with_columns(pl.Series(column, binned, dtype=pl.String))
        frame.write_csv(target)
    return target


def _peer_schema(data: Path, folder: Path) -> Path:
    columns = [c for c in data.open().readline().strip().split(",") if c not in ACS_DROP]
    schema = folder / f"{data.stem}-peer.toml"
    schema.write_text(
        'null_values = ["", "N"]\n\n'
        + "\n".join(f'[[columns]]\nname = "{c}"\nsensitive_zero = true\n' for c in columns),
        encoding="utf-8",
    )
    return schema


def _f(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _print(
    name: str,
    eps: str,
    ours: dict,
    peer: dict | None,
    also: dict | None = None,
    also_flags: str | None = None,
) -> None:
    def line(tool: str, r: dict) -> str:
        per = " ".join(
            f"L{k}: MAE {v['mae']:.1f} MRE {v['mre']:.2f} fab {v['fabricated_pct']:.1f}% ({v['fabricated_occurrences_pct']:.2f}% of occurrences, {v.get('fabricated_distinct', 0):,} distinct) sup {v['suppressed_pct']:.1f}% published MAE {_f(v.get('published_mae'))} (over the released set {_f(v.get('published_mae_released'))}, noisy {_f(v.get('noisy_mae'))})"
            for k, v in r["lengths"].items()
            if v["mae"] is not None
        )
        gap = (
            f"gap≥50 median {r['gap_median']:.3f} p95 {r['gap_p95']:.3f}"
            if r["gap_median"] is not None
            else ""
        )
        return f"  {tool:<9} {r['wall']:7.1f} s {r['peak_mib']:6.0f} MiB rows {r['rows_out']:,} | {per} | {gap}"

    print(f"{name} ε={eps}")
    print(line("ours", ours))
    if also:
        print(f"  ours+ = ours with {also_flags}")
        print(line("ours+", also))
    if peer:
        print(line("pac-synth", peer))
        print(
            f"  pac-synth/ours wall {peer['wall'] / ours['wall']:.1f}x, peak {peer['peak_mib'] / ours['peak_mib']:.1f}x"
        )
        if also:
            print(f"  pac-synth/ours+ wall {peer['wall'] / also['wall']:.1f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
