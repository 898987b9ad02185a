"""The thread rule of the compiled parallel kernels: tiny work wakes no second thread."""

from __future__ import annotations

import numba

from dpshowcase._threads import MIN_WORK_PER_THREAD, kernel_threads, threads_for


def test_tiny_work_runs_on_one_thread():
    assert threads_for(0) == 1
    assert threads_for(MIN_WORK_PER_THREAD - 1) == 1
    with kernel_threads(10) as threads:
        assert threads == 1
        assert numba.get_num_threads() == 1


def test_large_work_uses_every_thread_numba_allows_and_the_count_is_restored():
    before = numba.get_num_threads()
    assert threads_for(MIN_WORK_PER_THREAD * 10_000) == before
    with kernel_threads(10):
        pass
    assert numba.get_num_threads() == before


def test_a_lowered_thread_count_is_respected():
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        assert threads_for(MIN_WORK_PER_THREAD * 10_000) == 1
    finally:
        numba.set_num_threads(before)
