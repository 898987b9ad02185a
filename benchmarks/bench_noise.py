"""Throughput of the release path's noise: OpenDP's discrete Gaussian, on one thread and
on as many as the release uses.

    .venv/bin/python benchmarks/bench_noise.py [--draws 50000] [--scale 10]

Prints µs per draw. OpenDP's exact sampler is the slowest step of protecting many
candidate combinations (tens of thousands at length 3 on the ACS excerpts), so the
release draws large arrays on several threads (the sampler runs outside Python's lock).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from dpshowcase.privacy import noise


def per_draw(draws: int, scale: float, parallel_min: int, repeat: int) -> float:
    """Median µs per draw over ``repeat`` runs."""
    noise.PARALLEL_MIN = parallel_min
    source = noise.OpenDPNoise()
    counts = np.zeros(draws, dtype=np.int64)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        source.add_discrete_gaussian(counts, scale)
        times.append(time.perf_counter() - start)
    return statistics.median(times) / draws * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=50_000)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    default = noise.PARALLEL_MIN
    one = per_draw(args.draws, args.scale, args.draws + 1, args.repeat)
    many = per_draw(args.draws, args.scale, default, args.repeat)
    print(f"OpenDP discrete Gaussian, scale {args.scale:g}, {args.draws:,} draws (median of "
          f"{args.repeat}): one thread {one:.1f} µs per draw, release setting {many:.1f} µs "
          f"per draw ({one / many:.2f}×)")  # fmt: skip


if __name__ == "__main__":
    main()
