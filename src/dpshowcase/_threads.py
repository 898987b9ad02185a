"""How many threads a compiled parallel kernel may wake for the work it is given.

numba runs ``parallel=True`` kernels on an OpenMP pool whose workers, by default,
spin-wait between parallel regions. On a busy machine a tiny call (a 200-record fit
takes well under a millisecond on one thread) then pays for every worker it woke:
measured at 130 ms per fit instead of 2 ms with four other processes running. So each
call of a parallel kernel goes through :func:`kernel_threads`, which gives it one
thread unless it has enough work to keep more than one busy, and no caller has to know
an environment variable.

As an extra, ``OMP_WAIT_POLICY`` defaults to ``passive`` (idle workers sleep instead of
spinning) unless the user set it; it takes effect when numba starts its OpenMP pool, at
the first parallel call, which comes after this module is imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import numba

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

__all__ = ["MIN_WORK_PER_THREAD", "kernel_threads", "threads_for"]

MIN_WORK_PER_THREAD = 200_000
"""Units of work (a unit is one elementary step: a comparison, one record's column,
one combination looked up; roughly 5–10 ns) below which waking another thread costs
more than it saves. 200,000 units are about a millisecond of work."""


def threads_for(work: int) -> int:
    """Threads worth using for ``work`` units: one per :data:`MIN_WORK_PER_THREAD`,
    at least one, and never more than numba's current thread count."""
    return max(1, min(numba.get_num_threads(), int(work) // MIN_WORK_PER_THREAD))


@contextmanager
def kernel_threads(work: int) -> Iterator[int]:
    """Run the block with numba's thread count set for ``work`` units; yields it.

    The previous count is restored afterwards. numba's thread count is per calling
    thread, so concurrent callers (the web app's worker threads) do not interfere.
    """
    previous = numba.get_num_threads()
    threads = threads_for(work)
    numba.set_num_threads(threads)
    try:
        yield threads
    finally:
        numba.set_num_threads(previous)
