"""Combination keys: a combination of attribute ids packed into one int64.

A combination ``a1 < a2 < … < ak`` becomes ``key = ((a1+1)·B + (a2+1))·B + …`` with
``B = n_attributes + 1``. The +1 keeps attribute 0 from vanishing, so keys of different
lengths never collide, and numeric order of keys is length first, then lexicographic.
Every part of dpshowcase packs combinations with these two functions: :func:`pack` for
arrays of combinations, :func:`extend_key` inside compiled kernels (inlined by numba).
The caller checks that ``R·log2(B)`` stays below 63 bits.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

__all__ = ["extend_key", "pack"]

Integer = int | np.integer


@numba.njit(inline="always", cache=True, nogil=True)
def extend_key(key: Integer, attribute: Integer, base: Integer) -> Any:
    """The key of a combination's key with one more (larger) attribute appended.

    Any integer type; inside compiled kernels the result is numba's int64.
    """
    return key * base + attribute + 1


@numba.njit(cache=True, nogil=True)
def pack(combinations: np.ndarray, base: int) -> np.ndarray:
    """One int64 key per row of attribute ids (rows padded with -1, which is skipped)."""
    n, k = combinations.shape
    out = np.zeros(n, dtype=np.int64)
    for i in range(n):
        key = np.int64(0)
        for j in range(k):
            a = combinations[i, j]
            if a >= 0:
                key = extend_key(key, a, base)
        out[i] = key
    return out
