"""Time dpshowcase's aggregation of one file, phase by phase; print one JSON line.

Run by bench_aggregate.py in a fresh process so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.aggregate.io import write_table
from dpshowcase.data.encode import encode
from dpshowcase.data.load import read_table
from dpshowcase.schema.toml_io import load_schema


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("--schema", type=Path, required=True)
    parser.add_argument("--reporting-length", type=int, default=3)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    phases: dict[str, float] = {}
    t = time.perf_counter()
    frame = read_table(args.data)
    phases["load"] = time.perf_counter() - t
    t = time.perf_counter()
    data = encode(frame, load_schema(args.schema))
    phases["encode"] = time.perf_counter() - t
    t = time.perf_counter()
    counts = count_combinations(data, args.reporting_length)
    phases["aggregate"] = time.perf_counter() - t
    t = time.perf_counter()
    write_table(counts.to_frame(), args.output)
    phases["write"] = time.perf_counter() - t
    by_length = {
        int(k): int((counts.lengths == k).sum()) for k in range(1, args.reporting_length + 1)
    }
    print(
        json.dumps(
            {
                "phases": phases,
                "rows_in": data.n_records,
                "combinations_by_length": by_length,
                "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
