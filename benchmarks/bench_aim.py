"""Benchmark: AIM and MST (ours, OpenDP noise) beside smartnoise-synth's and pac-synth.

    .venv/bin/python benchmarks/bench_aim.py [--part demographic,ma2019] [--epsilon 1]
        [--peers aim,mst,pacsynth] [--timeout 600] [--ours aggregate-seeded,aim,mst]
        [--seed S] [--domains dictionary|learnt] [--delta public-n|inferred|D]
        [--reporting-length R]

Part ``demographic``: ACS national2019 (27,253 records), SDNist's demographic-focused
features (AGEP, SEX, MSP, RAC1P, HOUSING_TYPE, OWN_RENT, EDU, PINCP_DECILE, DVET, DEYE).
Every tool gets the same file with AGEP as the raw age; ours declares one public bin per
year of age (0..101: a public domain, so no budget is spent on it and no age is
suppressed by the value threshold), never empty; every other column declares its
categories from NIST's public data dictionary ("N" and 0 included; ``--domains
learnt``: values learnt under the threshold instead), so no value is suppressed and AIM
and MST give no column a "no value" cell. Our δ (``--delta public-n``, the default) is
1/(n·ln n) at the file's documented size n — the value our release would infer — given
explicitly, so AIM and MST spend no budget on the record count (they estimate it from
their 1-way marginals); ``--delta inferred`` leaves it to the release (which then draws
the count with ε_N = 0.1 first). smartnoise-synth's peers run with their defaults:
δ = 1e-9, stricter than ours (3.6e-6 here), and for AIM a workload of all 2-way
marginals. Ours get R = 2 on this part (``--reporting-length`` overrides): AIM's
workload is then all 2-way marginals, as smartnoise's and as SDNist's score (pairs);
on ``ma2019`` ours keep the release default R = 3.
``--seed`` seeds our runs (NOT private: for comparing changes on the same noise).
Scoring
follows SDNist: AGEP of the target and of each output is cut into 20 percentile bins
*of the target* (evaluation only, after release), then the k-marginal score over all
pairs. Published (SDNist sample reports, ε = 1): AIM 976, MST 958, pac-synth 567.

Part ``ma2019``: ACS ma2019 (7,634 records), all 24 columns; numeric columns cut at
public, data-independent edges (below). Our AIM must finish within the timeout on 2
cores and under 4 GB; smartnoise-synth's AIM is given the same timeout.

For every output: wall seconds, peak memory of the process (MiB), the k-marginal score,
and fabrication and suppression against the sensitive data: the share of distinct
combinations of 1–3 attributes in the output that no sensitive record holds
(fabricated) and the share of distinct sensitive combinations the output lacks
(suppressed). Peers run in their own venv (benchmarks/.venv-snsynth: see
peers/smartnoise_run.py; benchmarks/.venv-peers: setup_peers.sh). Results go to
benchmarks/results/aim.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ["NIST_ACS"]) if "NIST_ACS" in os.environ else next(
    (p / "shared" / "data" / "nist-acs" for p in ROOT.parents if (p / "shared" / "data").is_dir()),
    ROOT.parent / "shared" / "data" / "nist-acs",
)  # ../shared from the main checkout, ../../shared from a worktree
CLI = str(Path(sys.executable).with_name("dpshowcase"))
VENVS = Path(os.environ.get("PEER_VENVS", ROOT / "benchmarks"))
SNSYNTH = VENVS / ".venv-snsynth" / "bin" / "python"
PACSYNTH = VENVS / ".venv-peers" / "bin" / "python"
DEMOGRAPHIC = ["AGEP", "SEX", "MSP", "RAC1P", "HOUSING_TYPE", "OWN_RENT", "EDU",
               "PINCP_DECILE", "DVET", "DEYE"]  # fmt: skip
OURS = ["aggregate-seeded", "aim", "mst"]
EXTRA: list[str] = []  # options given to every run of ours (--seed)
REPORTING_LENGTH: list[int] = []  # --reporting-length; default: 2 (demographic), 3 (ma2019)
DOMAINS = ["dictionary"]  # demographic: categories from the data dictionary, or "learnt"
DELTA = ["public-n"]  # our δ: see _delta
PUBLISHED = {"AIM": 976, "MST": 958, "pac-synth": 567}
PUBLIC_EDGES = {  # data-independent bins for ma2019's numeric columns (no budget)
    "AGEP": [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 120],
    "PINCP": [-20000, 0, 10000, 20000, 30000, 50000, 75000, 100000, 150000, 250000, 5000000],
    "POVPIP": [0, 50, 100, 150, 200, 300, 400, 502],
    "DENSITY": [0, 1000, 2000, 3000, 5000, 10000, 20000, 100000],
    "PWGTP": [0, 25, 50, 100, 200, 500, 5000],
    "WGTP": [0, 1, 25, 50, 100, 200, 500, 5000],
}


def run(command: list[str], timeout: float) -> dict:
    """Run a command in its own process group: wall seconds, its peak RSS (MiB), finished?"""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
        )
        status, usage = None, None
        while time.perf_counter() - start < timeout:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.5)
        else:
            os.killpg(process.pid, signal.SIGKILL)
            _, status, usage = os.wait4(process.pid, 0)
            status = None
        wall = time.perf_counter() - start
        finished = status == 0
        if status not in (0, None):
            err.seek(0)
            print(f"{command[:4]} failed: {err.read()[-1500:]}", file=sys.stderr)
    peak = usage.ru_maxrss / 1024 if usage is not None else None
    return {"finished": finished, "wall_s": round(wall, 1), "peak_mib": peak and round(peak)}


def sdnist_age_bins(target: pl.DataFrame, *frames: pl.DataFrame) -> list[pl.DataFrame]:
    """AGEP cut into 20 percentile bins of the target, for scoring only."""
    age = target.get_column("AGEP").cast(pl.Float64, strict=False).to_numpy()
    edges = np.unique(np.nanpercentile(age, np.linspace(0, 100, 21)))

    def cut(frame: pl.DataFrame) -> pl.DataFrame:
        values = frame.get_column("AGEP").cast(pl.Float64, strict=False).to_numpy()
        codes = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
        labels = np.where(np.isnan(values), "", codes.astype(str))
        return frame.with_columns(pl.Series("AGEP", labels))

    return [cut(f) for f in (target, *frames)]


def combinations(frame: pl.DataFrame, r: int = 3) -> set[tuple[tuple[str, str], ...]]:
    """Distinct combinations of 1..r (column, value) pairs held by some record."""
    import itertools

    columns = frame.columns
    rows = frame.select(pl.all().cast(pl.String).fill_null("")).rows()
    out: set[tuple[tuple[str, str], ...]] = set()
    for k in range(1, r + 1):
        for cols in itertools.combinations(range(len(columns)), k):
            for row in {tuple(row[c] for c in cols) for row in rows}:
                out.add(tuple((columns[c], v) for c, v in zip(cols, row, strict=True)))
    return out


def quality(target: pl.DataFrame, output: Path, columns: list[str], group: str | None) -> dict:
    from dpshowcase.evaluate.external import normalise_table
    from dpshowcase.evaluate.kmarginal import k_marginal_score

    synthetic = normalise_table(pl.read_csv(output, infer_schema=False).select(columns))
    sensitive = normalise_table(target.select(columns))
    if "AGEP" in columns and group is None:
        sensitive, synthetic = sdnist_age_bins(sensitive, synthetic)
    k = 3 if group else 2
    features = [c for c in columns if c != group]
    score = k_marginal_score(
        sensitive.fill_null(""), synthetic.fill_null(""), k=k, columns=features,
        group_column=group,
    ).overall_sdnist  # fmt: skip
    real, made = combinations(sensitive), combinations(synthetic)
    return {
        "k_marginal": score,
        "rows": synthetic.height,
        "fabricated_share": round(len(made - real) / max(len(made), 1), 4),
        "suppressed_share": round(len(real - made) / max(len(real), 1), 4),
    }


def _delta(public_count: int) -> list[str]:
    """Our δ option: 1/(n·ln n) at the data file's documented size (public), given
    explicitly (then AIM and MST spend nothing on the record count); "inferred" leaves δ
    to the release (it infers the same value from an ε_N-DP count); or a number."""
    if DELTA[0] == "inferred":
        return []
    if DELTA[0] == "public-n":
        return ["--delta", repr(1.0 / (public_count * math.log(public_count)))]
    return ["--delta", DELTA[0]]


def ours(
    data: Path, schema: Path, eps: str, synthesizer: str, out: Path, timeout: float,
    delta: list[str], part: str,
) -> dict:  # fmt: skip
    r = REPORTING_LENGTH[0] if REPORTING_LENGTH else (2 if part == "demographic" else 3)
    command = [CLI, "release", str(data), "--schema", str(schema), "--epsilon", eps,
               "--synthesizer", synthesizer, "--output", str(out), *delta, *EXTRA,
               "--reporting-length", str(r)]  # fmt: skip
    return run(command, timeout)


def demographic_schema(domains: str) -> str:
    """The schema of the demographic features (TOML).

    AGEP: one public bin per year of age (a public domain: no threshold, no budget).
    ``domains="dictionary"``: every other column declares its categories from NIST's
    public data dictionary (a public domain: no threshold, nothing suppressed) and is
    never empty (the dictionary gives every record a code, "N" included), so AIM and MST
    give no column a "no value" cell. ``domains="learnt"``: every other column learns
    its values from the data under the threshold, with 0 as a value.
    """
    dictionary = json.loads((SHARED / "data_dictionary.json").read_text(encoding="utf-8"))
    never_empty = "may_be_empty = false\n" if domains == "dictionary" else ""
    out = f'[[columns]]\nname = "AGEP"\nkind = "numeric"\nbins = {list(range(102))}\n'
    out += never_empty + "\n"
    for c in DEMOGRAPHIC[1:]:
        out += f'[[columns]]\nname = "{c}"\nsensitive_zero = true\n'
        if domains == "dictionary":
            out += f"categories = {json.dumps(list(dictionary[c]['values']))}\n"
        out += "\n"
    return out


def demographic(folder: Path, eps: str, peers: list[str], timeout: float) -> list[dict]:
    target = pl.read_csv(SHARED / "national2019.csv", infer_schema=False).select(DEMOGRAPHIC)
    data = folder / "national2019_demographic_raw_age.csv"
    target.write_csv(data)
    schema = folder / "demographic.toml"
    schema.write_text(demographic_schema(DOMAINS[0]), encoding="utf-8")
    rows = []
    for name in OURS:
        out = folder / f"demo-{name}"
        row = {"part": "demographic", "epsilon": float(eps), "tool": f"dpshowcase {name}"}
        row |= ours(data, schema, eps, name, out, timeout, _delta(target.height), "demographic")
        if row["finished"]:
            row |= quality(target, out / "synthetic.csv", DEMOGRAPHIC, None)
        rows.append(row)
        print(json.dumps(row), flush=True)
    for peer in peers:
        out = folder / f"demo-peer-{peer}.csv"
        if peer == "pacsynth":
            command = [str(PACSYNTH), str(ROOT / "benchmarks" / "peers" / "pacsynth_run.py"),
                       str(data), "--mode", "dp", "--epsilon", eps, "--reporting-length", "3",
                       "--sensitive-zeros", "all", "--output-synthetic", str(out),
                       "--output-aggregates", str(folder / "demo-peer-pacsynth-agg.csv")]  # fmt: skip
        else:
            command = [str(SNSYNTH), str(ROOT / "benchmarks" / "peers" / "smartnoise_run.py"),
                       str(data), "--synth", peer, "--epsilon", eps, "--output", str(out)]  # fmt: skip
        row = {"part": "demographic", "epsilon": float(eps), "tool": f"peer {peer}"}
        row |= run(command, timeout)
        if row["finished"]:
            row |= quality(target, out, DEMOGRAPHIC, None)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def ma2019(folder: Path, eps: str, peers: list[str], timeout: float) -> list[dict]:
    target = pl.read_csv(SHARED / "ma2019.csv", infer_schema=False)
    data = folder / "ma2019.csv"
    target.write_csv(data)
    lines = ['null_values = ["", "N"]', ""]
    for c in target.columns:
        lines.append(f'[[columns]]\nname = "{c}"')
        if c in PUBLIC_EDGES:
            lines.append(f'kind = "numeric"\nbins = {PUBLIC_EDGES[c]}')
        else:
            lines.append("sensitive_zero = true")
        lines.append("")
    schema = folder / "ma2019.toml"
    schema.write_text("\n".join(lines), encoding="utf-8")
    rows = []
    for name in OURS:
        out = folder / f"ma-{name}"
        row = {"part": "ma2019", "epsilon": float(eps), "tool": f"dpshowcase {name}"}
        row |= ours(data, schema, eps, name, out, timeout, _delta(target.height), "ma2019")
        if row["finished"]:
            syn = pl.read_csv(out / "synthetic.csv", infer_schema=False)
            row["rows"] = syn.height
            params = json.loads((out / "parameters.json").read_text(encoding="utf-8"))
            row["rounds"] = (params.get("settings") or {}).get("rounds_run")
        rows.append(row)
        print(json.dumps(row), flush=True)
    if "aim" in peers:
        out = folder / "ma-peer-aim.csv"
        command = [str(SNSYNTH), str(ROOT / "benchmarks" / "peers" / "smartnoise_run.py"),
                   str(data), "--synth", "aim", "--epsilon", eps, "--output", str(out)]  # fmt: skip
        row = {"part": "ma2019", "epsilon": float(eps), "tool": "peer aim"}
        row |= run(command, timeout)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="demographic,ma2019")
    parser.add_argument("--epsilon", default="1")
    parser.add_argument("--peers", default="aim,mst,pacsynth")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--ours", default="aggregate-seeded,aim,mst", help="our synthesizers")
    parser.add_argument(
        "--seed", type=int, help="seed our runs (reproducible, NOT private: comparisons only)"
    )
    parser.add_argument(
        "--domains", choices=["dictionary", "learnt"], default="dictionary",
        help="demographic: categories declared from the data dictionary, or learnt",
    )  # fmt: skip
    parser.add_argument(
        "--delta", default="public-n",
        help="our delta: public-n (1/(n ln n) at the file's public size), inferred, or a number",
    )  # fmt: skip
    parser.add_argument(
        "--reporting-length", type=int,
        help="ours: R (AIM's workload: all R-way marginals; default 3)",
    )  # fmt: skip
    args = parser.parse_args()
    EXTRA[:] = ["--seed", str(args.seed)] if args.seed is not None else []
    REPORTING_LENGTH[:] = [args.reporting_length] if args.reporting_length else []
    DOMAINS[:] = [args.domains]
    DELTA[:] = [args.delta]
    OURS[:] = [o for o in args.ours.split(",") if o]
    peers = [p for p in args.peers.split(",") if p]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for part in args.part.split(","):
            runner = demographic if part == "demographic" else ma2019
            results += runner(Path(tmp), args.epsilon, peers, args.timeout)
    target = ROOT / "benchmarks" / "results"
    target.mkdir(exist_ok=True)
    name = f"aim-{args.part.replace(',', '-')}-{'-'.join(OURS)}-{args.domains}-{args.delta}"
    (target / f"{name}.json").write_text(
        json.dumps({"published": PUBLISHED, "runs": results}, indent=1), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
