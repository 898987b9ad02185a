"""Benchmark: counting all attribute combinations up to R, ours vs pac-synth (issue 2).

    make bench                      # ours only, unless the peer venv exists
    bash benchmarks/setup_peers.sh  # once: pac-synth in benchmarks/.venv-peers
    .venv/bin/python benchmarks/bench_aggregate.py [--quick]

Each run is a fresh process (``wall`` is the whole process: start-up, reading, counting,
writing the table; ``count`` is the counting call alone) and reports its own peak
resident memory (``getrusage``). The same data, columns, bins and treatment of
"0" go to both tools: NIST's ACS excerpts with PWGTP/WGTP dropped, AGEP, DENSITY, PINCP
and POVPIP binned, every "0" a real value (pac-synth: --sensitive-zeros all), "N" null.
Prints a table and writes benchmarks/results/aggregate.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DPSHOWCASE_SHARED_DATA", ROOT.parent / "shared" / "data"))
"""Public benchmark data (a worktree elsewhere sets DPSHOWCASE_SHARED_DATA)."""
PEER_PYTHON = ROOT / "benchmarks" / ".venv-peers" / "bin" / "python"
OURS = [sys.executable, str(ROOT / "benchmarks" / "_ours_aggregate.py")]
PEER = [str(PEER_PYTHON), str(ROOT / "benchmarks" / "peers" / "pacsynth_run.py")]
ACS_EDGES = {
    "AGEP": [10, 20, 30, 40, 50, 60, 70, 80, 90],
    "DENSITY": [1000, 2000, 3000, 5000, 10000, 20000],
    "PINCP": [0, 10000, 20000, 30000, 50000, 75000, 100000, 150000, 250000],
    "POVPIP": [50, 100, 150, 200, 300, 400, 501],
}
ACS_DROP = ("PWGTP", "WGTP")


def run(command: list[str]) -> dict:
    """Run a command, return its JSON line plus wall seconds and peak RSS (MiB)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, _ = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    out = process.stdout.read() if process.stdout else ""
    err = process.stderr.read() if process.stderr else ""
    if status != 0:
        raise SystemExit(f"{command[1]} failed:\n{err[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["wall"] = wall
    # each tool reports its own peak resident memory (getrusage of its process)
    result["peak_mib"] = result["max_rss_mib"]
    return result


def acs_schema(path: Path, folder: Path) -> Path:
    """Schema TOML for an ACS file: bins as pac-synth's runner cuts them, 0 is a value."""
    frame = pl.read_csv(path, infer_schema=False)
    lines = ['null_values = ["", "N"]', ""]
    for name in frame.columns:
        if name in ACS_DROP:
            continue
        lines.append("[[columns]]")
        lines.append(f'name = "{name}"')
        if name in ACS_EDGES:
            values = frame.get_column(name).cast(pl.Float64, strict=False).drop_nulls()
            low, high = float(values.min()), float(values.max())
            inner = [e for e in ACS_EDGES[name] if low < e <= high]
            edges = [low, *inner, high + 1]
            lines.append('kind = "numeric"')
            lines.append(f"bins = {edges}")
        else:
            lines.append("sensitive_zero = true")
        lines.append("")
    schema = folder / f"{path.stem}.toml"
    schema.write_text("\n".join(lines), encoding="utf-8")
    return schema


def ours(data: Path, schema: Path, r: int, folder: Path) -> dict:
    out = run(
        [
            *OURS,
            str(data),
            "--schema",
            str(schema),
            "--reporting-length",
            str(r),
            "--output",
            str(folder / "ours.csv"),
        ]
    )
    out["count"] = out["phases"]["aggregate"]
    return out


def peer(data: Path, r: int, folder: Path, acs: bool) -> dict | None:
    if not PEER_PYTHON.exists():
        return None
    command = [
        *PEER,
        str(data),
        "--mode",
        "aggregate",
        "--reporting-length",
        str(r),
        "--output-aggregates",
        str(folder / "peer.csv"),
    ]
    if acs:
        columns = [
            c for c in pl.read_csv(data, n_rows=1, infer_schema=False).columns if c not in ACS_DROP
        ]
        command += [
            "--nulls",
            "N",
            "--columns",
            ",".join(columns),
            "--sensitive-zeros",
            "all",
            "--bin-numeric",
            "--numeric-columns",
            ",".join(ACS_EDGES),
            "--bin-edges",
            json.dumps(ACS_EDGES),
        ]
    out = run(command)
    out["count"] = out["phases_seconds"]["aggregate"]
    return out


def demo_file(rows: int, folder: Path) -> tuple[Path, Path]:
    # generated in a child process: a forked child inherits the parent's peak memory
    # figure, so the parent stays small
    path = folder / f"demo{rows}.csv"
    if not path.exists():
        cli = Path(sys.executable).with_name("dpshowcase")
        subprocess.run(
            [str(cli), "demo-data", "--rows", str(rows), "--output", str(path)],
            check=True,
            capture_output=True,
        )
    schema = folder / "demo.toml"
    columns = path.open(encoding="utf-8").readline().strip().split(",")
    schema.write_text("\n".join(f'[[columns]]\nname = "{c}"\n' for c in columns), encoding="utf-8")
    return path, schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Skip the 1M-row and R=4 runs.")
    args = parser.parse_args()
    rows_out = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases: list[tuple[str, Path, Path, int, bool]] = []
        for rows in (50_000, 250_000) if args.quick else (50_000, 250_000, 1_000_000):
            data, schema = demo_file(rows, folder)
            cases.append((f"demo {rows:,}", data, schema, 3, False))
        data250, schema250 = demo_file(250_000, folder)
        for r in (2,) if args.quick else (2, 4):
            cases.append(("demo 250,000", data250, schema250, r, False))
        for name in ("ma2019", "tx2019", "national2019"):
            path = SHARED / "nist-acs" / f"{name}.csv"
            if path.exists():
                cases.append((name, path, acs_schema(path, folder), 3, True))
        for label, data, schema, r, acs in cases:
            a = ours(data, schema, r, folder)
            b = peer(data, r, folder, acs)
            row = {"data": label, "R": r, "ours": a, "pac_synth": b}
            rows_out.append(row)
            ratio = f"{b['wall'] / a['wall']:.1f}x" if b else "n/a"
            peer_text = f"{b['wall']:7.2f} s {b['peak_mib']:7.0f} MiB" if b else "   (no peer venv)"
            print(
                f"{label:>14} R={r}  ours {a['wall']:6.2f} s (count {a['count']:5.2f} s) "
                f"{a['peak_mib']:6.0f} MiB | pac-synth {peer_text} | pac-synth/ours wall {ratio} "
                f"| combinations {sum(a['combinations_by_length'].values()):,}",
                flush=True,
            )
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "aggregate.json").write_text(json.dumps(rows_out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
