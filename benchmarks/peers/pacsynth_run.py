"""Run Microsoft's synthetic-data-showcase core (PyPI ``pac-synth``) on one CSV file.

Run it with the peer environment, never with dpshowcase's own venv::

    bash benchmarks/setup_peers.sh
    benchmarks/.venv-peers/bin/python benchmarks/peers/pacsynth_run.py DATA.csv \\
        --nulls N --mode dp --reporting-length 3 --epsilon 1 \\
        --output-aggregates aggs.csv --output-synthetic synth.csv

It prints exactly one JSON line on stdout: wall seconds per phase, rows in and out, and
the number of reported attribute combinations per length.

What pac-synth 0.0.8 offers, and so what this script can do
-----------------------------------------------------------
* ``--mode aggregate``: exact (non-DP) counts of every attribute combination of length
  1..R, via ``pacsynth.Dataset.get_aggregates(reporting_length, combination_delimiter)``.
  pac-synth exposes no non-DP synthesizer, so this mode writes no synthetic data.
* ``--mode dp``: ``DpAggregateSeededSynthesizer(params).fit(dataset)``, then
  ``get_dp_aggregates(delimiter)`` (the protected counts), ``get_dp_number_of_records()``
  and ``sample(target_number_of_records)``.
* pac-synth draws all its randomness from Rust's ``thread_rng``: there is no seed, so
  runs cannot be repeated exactly and this script has no ``--seed``.

How values reach pac-synth
--------------------------
* Cells are read as strings with the csv module, exactly as written in the file.
  An empty cell, and any cell equal to a ``--nulls`` token, is passed as ``""`` (absent).
* pac-synth itself then trims every value and header, treats ``"0"`` (after trimming) as
  absent too unless the column is listed in ``--sensitive-zeros`` (``all`` lists every
  column), and rewrites ``;`` and ``:`` to ``<semicolon>`` and ``<colon>``.
  This script keeps pac-synth's default for ``"0"`` so the peer runs as it ships.
* Combinations and synthetic values are mapped back to the strings this script passed in
  (one per column and pac-synth spelling). Where two input strings of one column collapse
  to the same pac-synth spelling (e.g. ``"a"`` and ``" a"``), pac-synth counted them as
  one value; the first string seen is written and ``value_collisions`` counts them.

Binning (``--bin-numeric``)
---------------------------
Each column of ``--numeric-columns`` is cut at the ascending edges ``e1 < ... < em``
given in ``--bin-edges`` (a JSON object ``{"column": [e1, ..., em]}``, either a file path
or the JSON text itself). A non-null value ``x`` (parsed as a float) becomes one of
``"<e1"``, ``"[e1,e2)"``, ..., ``"[e(m-1),em)"``, ``">=em"``; nulls stay null.
A listed column without edges gets 10 equal-width bins between its observed minimum and
maximum (not private; for quick looks only). Edges are written in labels as given.

Aggregates file
---------------
``--output-aggregates`` writes ``combination,length,count`` rows. A combination is
``column:value;column:value`` with its columns in the input file's column order, and every
``;``, ``:`` and ``\\`` inside a column name or a value escaped with a backslash.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import platform
import resource
import sys
import time
from collections import Counter
from importlib import metadata
from itertools import pairwise
from pathlib import Path

import pacsynth

DELIMITER = ";"  # pac-synth rewrites ';' inside names and values, so it cannot be ambiguous


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("csv", type=Path, help="input CSV file (header row first)")
    p.add_argument(
        "--nulls",
        action="append",
        default=[],
        metavar="TOKEN",
        help="cell value meaning null (repeatable); empty cells are always null",
    )
    p.add_argument("--columns", help="comma-separated columns to use (default: all)")
    p.add_argument("--bin-numeric", action="store_true", help="bin --numeric-columns")
    p.add_argument("--numeric-columns", default="", help="comma-separated numeric columns")
    p.add_argument("--bin-edges", help='JSON file or JSON text: {"column": [e1, ..., em]}')
    p.add_argument(
        "--sensitive-zeros",
        default="",
        help="columns where '0' is a value, not absent (comma-separated, or 'all')",
    )
    p.add_argument("--mode", choices=["aggregate", "dp"], required=True)
    p.add_argument("--reporting-length", type=int, default=3)
    p.add_argument("--epsilon", type=float, help="DP budget (pac-synth default 4.0)")
    p.add_argument(
        "--delta",
        type=float,
        help="DP delta (pac-synth default: 1 / (ln(n') * n'), n' the protected record count)",
    )
    p.add_argument("--percentile-percentage", type=int)
    p.add_argument("--percentile-epsilon-proportion", type=float)
    p.add_argument("--number-of-records-epsilon-proportion", type=float)
    p.add_argument(
        "--accuracy-mode",
        choices=["prioritize_long", "prioritize_short", "balanced", "custom"],
        help="pac-synth default: prioritize_long",
    )
    p.add_argument("--sigma-proportions", help="comma-separated floats, for --accuracy-mode custom")
    p.add_argument(
        "--fabrication-mode",
        choices=["uncontrolled", "balanced", "minimize", "progressive", "adaptive", "fixed"],
        help="pac-synth default: uncontrolled",
    )
    p.add_argument(
        "--thresholds",
        help='JSON {"2": t2, "3": t3} for --fabrication-mode adaptive or fixed',
    )
    p.add_argument("--use-synthetic-counts", action="store_true")
    p.add_argument("--weight-selection-percentile", type=int)
    p.add_argument("--aggregate-counts-scale-factor", type=float)
    p.add_argument(
        "--sample-size",
        help="records to synthesize: a number, or 'dp' for pac-synth's protected record count "
        "(default: let pac-synth use up its DP counts, which can give far more rows)",
    )
    p.add_argument("--threads", type=int, help="pac-synth threads (default: one per core)")
    p.add_argument("--output-synthetic", type=Path)
    p.add_argument("--output-aggregates", type=Path)
    args = p.parse_args(argv)
    if args.mode == "aggregate" and args.output_synthetic is not None:
        p.error("pac-synth has no non-DP synthesizer: --output-synthetic needs --mode dp")
    if args.reporting_length < 1:
        p.error("--reporting-length must be at least 1")
    return args


# ---------------------------------------------------------------- loading and binning


def split_list(text: str) -> list[str]:
    return [part for part in (s.strip() for s in text.split(",")) if part]


def read_csv(path: Path, nulls: set[str], columns: list[str] | None) -> tuple[list[str], list]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if columns is None:
            keep = list(range(len(header)))
        else:
            missing = [c for c in columns if c not in header]
            if missing:
                raise SystemExit(f"unknown columns: {missing}")
            wanted = set(columns)
            keep = [i for i, name in enumerate(header) if name in wanted]  # input order
        rows = []
        for line_no, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise SystemExit(f"{path}:{line_no}: {len(row)} cells, header has {len(header)}")
            rows.append(["" if row[i] in nulls else row[i] for i in keep])
    return [header[i] for i in keep], rows


def load_edges(spec: str | None) -> dict[str, list]:
    if not spec:
        return {}
    text = spec if spec.lstrip().startswith("{") else Path(spec).read_text(encoding="utf-8")
    edges = json.loads(text)
    for column, cuts in edges.items():
        if not cuts or any(float(a) >= float(b) for a, b in pairwise(cuts)):
            raise SystemExit(f"bin edges for {column} must be a non-empty ascending list")
    return edges


def fmt_edge(edge: float | int | str) -> str:
    if isinstance(edge, float) and edge.is_integer() and abs(edge) < 1e15:
        return str(int(edge))
    return str(edge)


def equal_width_edges(values: list[float], n_bins: int = 10) -> list[float]:
    lo, hi = min(values), max(values)
    if lo == hi:
        return [lo]
    step = (hi - lo) / n_bins
    return [lo + step * k for k in range(1, n_bins)]


def bin_columns(header: list[str], rows: list, numeric: list[str], edges: dict) -> dict:
    used = {}
    for column in numeric:
        if column not in header:
            raise SystemExit(f"numeric column {column!r} is not among the columns used")
        j = header.index(column)
        try:
            values = {row[j]: float(row[j]) for row in rows if row[j] != ""}
        except ValueError as exc:
            raise SystemExit(f"column {column}: non-numeric value ({exc})") from None
        if not values:
            continue
        cuts = edges.get(column) or equal_width_edges(list(values.values()))
        bounds = [float(c) for c in cuts]
        names = [fmt_edge(c) for c in cuts]
        labels = [f"<{names[0]}"] + [f"[{a},{b})" for a, b in pairwise(names)] + [f">={names[-1]}"]
        label_of = {}
        for text, x in values.items():
            k = 0
            while k < len(bounds) and x >= bounds[k]:
                k += 1
            label_of[text] = labels[k]
        for row in rows:
            if row[j] != "":
                row[j] = label_of[row[j]]
        used[column] = cuts
    return used


# ---------------------------------------------------------------- pac-synth spelling


def normalize(value: str) -> str:
    """pac-synth's normalize_reserved_delimiters (sds-core utils/strings.rs)."""
    return value.strip().replace(";", "<semicolon>").replace(":", "<colon>")


def denormalize(value: str) -> str:
    return value.replace("<semicolon>", ";").replace("<colon>", ":")


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(":", "\\:")


class Decoder:
    """Maps pac-synth's header and value spellings back to the strings passed in."""

    def __init__(self, header: list[str], rows: list) -> None:
        self.header = header
        self.column_of: dict[str, int] = {}
        for j, name in enumerate(header):
            key = normalize(name)
            if key in self.column_of:
                raise SystemExit(
                    f"columns {header[self.column_of[key]]!r} and {name!r} are "
                    "the same column to pac-synth (names are trimmed)"
                )
            self.column_of[key] = j
        self.values: list[dict[str, str]] = [{} for _ in header]
        self.collisions = 0
        for j in range(len(header)):
            seen = self.values[j]
            for raw in dict.fromkeys(row[j] for row in rows):  # first-seen order
                key = normalize(raw)
                if key in seen:
                    self.collisions += 1
                else:
                    seen[key] = raw

    def column(self, name: str) -> int:
        return self.column_of[name]

    def value(self, j: int, value: str) -> str:
        found = self.values[j].get(value)
        return denormalize(value) if found is None else found

    def combination(self, key: str) -> tuple[str, int]:
        items = []
        for item in key.split(DELIMITER):
            name, _, value = item.partition(":")
            j = self.column_of[name]
            items.append((j, self.value(j, value)))
        items.sort()
        text = DELIMITER.join(f"{escape(self.header[j])}:{escape(v)}" for j, v in items)
        return text, len(items)


def write_aggregates(path: Path, counts: dict[str, int], decoder: Decoder) -> Counter:
    per_length: Counter = Counter()
    decoded = []
    for key, count in counts.items():
        text, length = decoder.combination(key)
        per_length[length] += 1
        decoded.append((length, text, count))
    decoded.sort()
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["combination", "length", "count"])
        out.writerows((text, length, count) for length, text, count in decoded)
    return per_length


def count_lengths(counts: dict[str, int]) -> Counter:
    return Counter(key.count(DELIMITER) + 1 for key in counts)


def write_synthetic(path: Path, raw: list[list[str]], decoder: Decoder) -> int:
    names = raw[0]
    order = [decoder.column(n) for n in names]
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(decoder.header)
        for record in raw[1:]:
            row = [""] * len(decoder.header)
            for j, value in zip(order, record, strict=True):
                row[j] = "" if value == "" else decoder.value(j, value)
            out.writerow(row)
    return len(raw) - 1


# ---------------------------------------------------------------- pac-synth parameters


def build_parameters(args: argparse.Namespace) -> pacsynth.DpAggregateSeededParameters:
    b = pacsynth.DpAggregateSeededParametersBuilder().reporting_length(args.reporting_length)
    simple = {
        "epsilon": args.epsilon,
        "delta": args.delta,
        "percentile_percentage": args.percentile_percentage,
        "percentile_epsilon_proportion": args.percentile_epsilon_proportion,
        "number_of_records_epsilon_proportion": args.number_of_records_epsilon_proportion,
        "weight_selection_percentile": args.weight_selection_percentile,
        "aggregate_counts_scale_factor": args.aggregate_counts_scale_factor,
    }
    for name, value in simple.items():
        if value is not None:
            b = getattr(b, name)(value)
    if args.use_synthetic_counts:
        b = b.use_synthetic_counts(True)
    am = pacsynth.AccuracyMode
    if args.accuracy_mode == "custom":
        if not args.sigma_proportions:
            raise SystemExit("--accuracy-mode custom needs --sigma-proportions")
        sigmas = [float(s) for s in split_list(args.sigma_proportions)]
        b = b.accuracy_mode(am.custom(sigmas))
    elif args.accuracy_mode is not None:
        b = b.accuracy_mode(
            {
                "prioritize_long": am.prioritize_long_combinations,
                "prioritize_short": am.prioritize_short_combinations,
                "balanced": am.balanced,
            }[args.accuracy_mode]()
        )
    fm = pacsynth.FabricationMode
    if args.fabrication_mode in ("adaptive", "fixed"):
        if not args.thresholds:
            raise SystemExit(f"--fabrication-mode {args.fabrication_mode} needs --thresholds")
        thresholds = {int(k): float(v) for k, v in json.loads(args.thresholds).items()}
        make = fm.custom_adaptive if args.fabrication_mode == "adaptive" else fm.custom_fixed
        b = b.fabrication_mode(make(thresholds))
    elif args.fabrication_mode is not None:
        b = b.fabrication_mode(getattr(fm, args.fabrication_mode)())
    return b.build()


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        pacsynth.set_number_of_threads(args.threads)
    report: dict = {
        "tool": "pac-synth",
        "version": metadata.version("pac-synth"),
        "python": platform.python_version(),
        "input": str(args.csv),
        "mode": args.mode,
        "reporting_length": args.reporting_length,
        "seed_supported": False,
    }
    phases: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        phases[name] = round(now - clock, 6)
        clock = now

    columns = split_list(args.columns) if args.columns else None
    header, rows = read_csv(args.csv, set(args.nulls), columns)
    lap("load")
    if args.bin_numeric:
        report["bin_edges"] = bin_columns(
            header, rows, split_list(args.numeric_columns), load_edges(args.bin_edges)
        )
        lap("bin")
    zeros = header if args.sensitive_zeros.strip() == "all" else split_list(args.sensitive_zeros)
    unknown = [c for c in zeros if c not in header]
    if unknown:
        raise SystemExit(f"--sensitive-zeros: unknown columns {unknown}")
    zero_set = {header.index(c) for c in zeros}
    report["zero_cells_absent"] = sum(
        1 for row in rows for j, v in enumerate(row) if j not in zero_set and v.strip() == "0"
    )
    decoder = Decoder(header, rows)
    report.update(
        rows_in=len(rows),
        columns=header,
        sensitive_zeros=[header[j] for j in sorted(zero_set)],
        value_collisions=decoder.collisions,
    )
    lap("prepare")  # this script's bookkeeping, not pac-synth's work
    dataset = pacsynth.Dataset([header, *rows], sensitive_zeros=[header[j] for j in zero_set])
    del rows
    lap("dataset")

    if args.mode == "aggregate":
        counts = dataset.get_aggregates(args.reporting_length, DELIMITER)
        lap("aggregate")
        report["rows_out"] = 0
    else:
        params = build_parameters(args)
        report["parameters"] = json.loads(params.to_json_str())
        synth = pacsynth.DpAggregateSeededSynthesizer(params)
        synth.fit(dataset)
        lap("fit")
        counts = synth.get_dp_aggregates(DELIMITER)
        n_protected = synth.get_dp_number_of_records()
        report["dp_number_of_records"] = n_protected
        # pac-synth's default delta (sds-core dp/noise_parameters.rs), as it computes it
        report["delta_effective"] = (
            args.delta
            if args.delta is not None
            else 1.0 / (math.log(n_protected) * n_protected)
            if n_protected > 1
            else None
        )
        lap("get_dp_aggregates")
        target = args.sample_size
        if target is not None:
            target = n_protected if target == "dp" else int(target)
        raw = synth.sample(target)
        lap("sample")
        report["rows_out"] = len(raw) - 1
        if args.output_synthetic is not None:
            write_synthetic(args.output_synthetic, raw, decoder)
            lap("write_synthetic")
        del raw

    if args.output_aggregates is not None:
        per_length = write_aggregates(args.output_aggregates, counts, decoder)
        lap("write_aggregates")
    else:
        per_length = count_lengths(counts)
    report["combinations_by_length"] = {str(k): per_length[k] for k in sorted(per_length)}
    report["combinations_total"] = sum(per_length.values())
    report["phases_seconds"] = phases
    report["total_seconds"] = round(sum(phases.values()), 6)
    report["max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(report, separators=(",", ":")))


if __name__ == "__main__":
    sys.exit(main())
